package io.pgha.router.auth;

import io.pgha.api.postgres.Scram;
import io.pgha.api.postgres.ScramClient;
import org.junit.jupiter.api.Test;

import javax.crypto.SecretKeyFactory;
import javax.crypto.spec.PBEKeySpec;
import java.nio.charset.StandardCharsets;
import java.util.Base64;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** SCRAM-SHA-256 pass-through without I/O: a client, the router's server side, and the router as a client. */
class ScramTest {
    private static final byte[] SALT = "0123456789abcdef".getBytes(StandardCharsets.UTF_8);
    private static final int ITERATIONS = 4096;

    private static byte[] saltedPassword(String password) throws Exception {
        return SecretKeyFactory.getInstance("PBKDF2WithHmacSHA256")
                .generateSecret(new PBEKeySpec(password.toCharArray(), SALT, ITERATIONS, 256)).getEncoded();
    }

    /** The verifier PostgreSQL would store for this password. */
    private static ScramVerifier verifier(String password) throws Exception {
        byte[] salted = saltedPassword(password);
        byte[] storedKey = Scram.sha256(Scram.hmac(salted, "Client Key"));
        byte[] serverKey = Scram.hmac(salted, "Server Key");
        String text = "SCRAM-SHA-256$" + ITERATIONS + ":" + Scram.b64(SALT) + "$" + Scram.b64(storedKey) + ":" + Scram.b64(serverKey);
        return ScramVerifier.parse(text).orElseThrow();
    }

    /** A client's final message for a password (what libpq computes). */
    private static String clientFinal(String password, String clientFirstBare, String serverFirst, String gs2) throws Exception {
        byte[] salted = saltedPassword(password);
        byte[] clientKey = Scram.hmac(salted, "Client Key");
        String withoutProof = "c=" + Base64.getEncoder().encodeToString(gs2.getBytes(StandardCharsets.UTF_8)) + ",r=" + Scram.attributes(serverFirst).get('r');
        String authMessage = clientFirstBare + "," + serverFirst + "," + withoutProof;
        byte[] proof = Scram.xor(clientKey, Scram.hmac(Scram.sha256(clientKey), authMessage));
        return withoutProof + ",p=" + Scram.b64(proof);
    }

    @Test
    void rightPasswordRevealsTheClientKeyAndTheRouterCanLogInWithIt() throws Exception {
        ScramVerifier v = verifier("s3cret");
        ScramServerExchange server = new ScramServerExchange(v);
        String serverFirst = server.clientFirst("n,,n=,r=clientnonce");
        assertTrue(serverFirst.startsWith("r=clientnonce"));
        ScramServerExchange.Result result = server.clientFinal(clientFinal("s3cret", "n=,r=clientnonce", serverFirst, "n,,"));
        assertNotNull(result);
        assertArrayEquals(Scram.hmac(saltedPassword("s3cret"), "Client Key"), result.keys().clientKey());

        // the router logs in to a "server" holding the same verifier, without the password
        ScramClient router = new ScramClient(result.keys().keySource());
        String routerFirst = router.clientFirst("");
        ScramServerExchange realServer = new ScramServerExchange(v);
        String sf = realServer.clientFirst(routerFirst);
        String routerFinal = router.clientFinal(sf);
        ScramServerExchange.Result accepted = realServer.clientFinal(routerFinal);
        assertNotNull(accepted, "the server accepts the router's proof");
        router.checkServerFinal(accepted.serverFinal());
    }

    @Test
    void wrongPasswordIsRefused() throws Exception {
        ScramServerExchange server = new ScramServerExchange(verifier("s3cret"));
        String serverFirst = server.clientFirst("n,,n=,r=abc");
        assertNull(server.clientFinal(clientFinal("wrong", "n=,r=abc", serverFirst, "n,,")));
    }

    @Test
    void clientThatSupportsButDoesNotUseChannelBindingIsAccepted() throws Exception {
        ScramServerExchange server = new ScramServerExchange(verifier("pw"));
        String serverFirst = server.clientFirst("y,,n=,r=xyz");
        assertNotNull(server.clientFinal(clientFinal("pw", "n=,r=xyz", serverFirst, "y,,")));
    }

    @Test
    void malformedAndTamperedExchangesAreRejected() throws Exception {
        ScramServerExchange binding = new ScramServerExchange(verifier("pw"));
        assertThrows(ScramServerExchange.ScramException.class, () -> binding.clientFirst("p=tls-server-end-point,,n=,r=x"));
        ScramServerExchange garbage = new ScramServerExchange(verifier("pw"));
        assertThrows(ScramServerExchange.ScramException.class, () -> garbage.clientFirst("hello"));
        ScramServerExchange nonce = new ScramServerExchange(verifier("pw"));
        String serverFirst = nonce.clientFirst("n,,n=,r=abc");
        String tampered = clientFinal("pw", "n=,r=abc", serverFirst, "n,,").replace("r=abc", "r=abd");
        assertThrows(ScramServerExchange.ScramException.class, () -> nonce.clientFinal(tampered));
        ScramServerExchange early = new ScramServerExchange(verifier("pw"));
        assertThrows(ScramServerExchange.ScramException.class, () -> early.clientFinal("c=biws,r=x,p=AAAA"));
    }

    @Test
    void routerNoticesAServerSecretThatDiffers() throws Exception {
        ScramServerExchange server = new ScramServerExchange(verifier("pw"));
        String serverFirst = server.clientFirst("n,,n=,r=abc");
        ClientKeys keys = server.clientFinal(clientFinal("pw", "n=,r=abc", serverFirst, "n,,")).keys();
        ScramClient router = new ScramClient(keys.keySource());
        String routerFirst = router.clientFirst("");
        String routerNonce = Scram.attributes(routerFirst.substring("n,,".length())).get('r');
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> router.clientFinal("r=" + routerNonce + "server,s=" + Scram.b64("other-salt-xxxxx".getBytes()) + ",i=4096"));
        assertTrue(e.getMessage().contains("password changed?"), e.getMessage());
    }

    @Test
    void verifierParsing() throws Exception {
        ScramVerifier v = verifier("pw");
        assertEquals(ITERATIONS, v.iterations());
        assertTrue(ScramVerifier.parse("md5abcdef").isEmpty());
        assertTrue(ScramVerifier.parse(null).isEmpty());
        assertTrue(ScramVerifier.parse("SCRAM-SHA-256$x:y$z:w").isEmpty());
    }
}
