package io.pgha.api.postgres;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

/** The client side of SCRAM-SHA-256 against RFC 7677's example, and what it refuses. */
class ScramClientTest {
    /** RFC 7677, section 3: user "user", password "pencil". */
    private static final String CLIENT_NONCE = "rOprNGfwEbeRWgbNEkqO";
    private static final String SERVER_FIRST = "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";

    @Test
    void aPasswordsExchangeFollowsRfc7677() {
        ScramClient scram = new ScramClient(ScramClient.password("pencil"), CLIENT_NONCE);
        assertEquals("n,,n=user,r=rOprNGfwEbeRWgbNEkqO", scram.clientFirst("user"));
        assertEquals("c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
                scram.clientFinal(SERVER_FIRST));
        scram.checkServerFinal("v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=");
        IllegalArgumentException forged = assertThrows(IllegalArgumentException.class,
                () -> scram.checkServerFinal("v=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="));
        assertTrue(forged.getMessage().contains("signature is wrong"), forged.getMessage());
    }

    @Test
    void aServerThatAnswersEarlyOrDoesNotExtendTheNonceOrOmitsAnAttributeOrRefusesIsNamed() {
        ScramClient scram = new ScramClient(ScramClient.password("pencil"), CLIENT_NONCE);
        assertTrue(assertThrows(IllegalArgumentException.class, () -> scram.clientFinal(SERVER_FIRST))
                .getMessage().contains("never started"));
        // a login that made no client at all is refused the same way
        assertTrue(assertThrows(IllegalArgumentException.class, () -> ScramClient.started(null))
                .getMessage().contains("never started"));
        assertSame(scram, ScramClient.started(scram));
        scram.clientFirst("user");
        assertTrue(assertThrows(IllegalArgumentException.class, () -> scram.clientFinal("r=other,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"))
                .getMessage().contains("nonce"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> scram.clientFinal("r=" + CLIENT_NONCE + "x,i=4096"))
                .getMessage().contains("'s'"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> scram.clientFinal("r=" + CLIENT_NONCE + "x,s=W22Z,i=many"))
                .getMessage().contains("malformed"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> scram.checkServerFinal("e=invalid-proof"))
                .getMessage().contains("refused SCRAM authentication: invalid-proof"));
    }

    @Test
    void theKeySourceDecidesWhetherTheServersSaltIsUsable() {
        ScramClient scram = new ScramClient((salt, iterations) -> {
            throw new IllegalArgumentException("not the known salt");
        }, CLIENT_NONCE);
        scram.clientFirst("");
        assertEquals("not the known salt",
                assertThrows(IllegalArgumentException.class, () -> scram.clientFinal(SERVER_FIRST)).getMessage());
    }
}
