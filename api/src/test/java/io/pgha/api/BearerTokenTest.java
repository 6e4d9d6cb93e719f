package io.pgha.api;

import org.junit.jupiter.api.Test;

import static io.pgha.api.BearerToken.Verdict.ACCEPTED;
import static io.pgha.api.BearerToken.Verdict.MISSING;
import static io.pgha.api.BearerToken.Verdict.WRONG;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class BearerTokenTest {
    private static final String TOKEN = "k3Jx9PqWm2Zt7RvYb4NcHd8LsEf6GaUu";

    @Test
    void theExpectedTokenIsAcceptedWhateverTheSchemesCase() {
        assertEquals(ACCEPTED, BearerToken.check("Bearer " + TOKEN, TOKEN));
        assertEquals(ACCEPTED, BearerToken.check("bearer " + TOKEN, TOKEN));
        assertEquals(ACCEPTED, BearerToken.check("  BEARER   " + TOKEN + " ", TOKEN));
    }

    @Test
    void noBearerCredentialIsMissing() {
        assertEquals(MISSING, BearerToken.check(null, TOKEN));
        assertEquals(MISSING, BearerToken.check("", TOKEN));
        assertEquals(MISSING, BearerToken.check(TOKEN, TOKEN), "a token without its scheme");
        assertEquals(MISSING, BearerToken.check("Basic " + TOKEN, TOKEN));
        assertEquals(MISSING, BearerToken.check("Bearer ", TOKEN), "the scheme without a token");
    }

    @Test
    void anyOtherTokenIsWrong() {
        assertEquals(WRONG, BearerToken.check("Bearer " + TOKEN.substring(1), TOKEN));
        assertEquals(WRONG, BearerToken.check("Bearer " + TOKEN + "x", TOKEN));
        assertEquals(WRONG, BearerToken.check("Bearer " + TOKEN.toLowerCase(), TOKEN), "tokens are case-sensitive");
    }

    @Test
    void anEmptyExpectedTokenNeverAcceptsAnything() {
        assertThrows(IllegalArgumentException.class, () -> BearerToken.check("Bearer ", ""));
        assertThrows(IllegalArgumentException.class, () -> BearerToken.check("Bearer x", null));
    }
}
