package io.pgha.api;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Locale;

/**
 * Whether a request's {@code Authorization} header carries the expected bearer token (RFC 6750):
 * the one check behind every token pgha demands (the control APIs' token, each cluster's WAL
 * token locally and on Kubernetes), so that the header is parsed and the token compared in one
 * way everywhere.
 */
public final class BearerToken {
    /** The authentication scheme, compared case-insensitively as HTTP says. */
    public static final String SCHEME = "Bearer";
    /** What a 401 answer's {@code WWW-Authenticate} header says. */
    public static final String CHALLENGE = SCHEME + " realm=\"pgha-wal\"";

    private BearerToken() {
    }

    public enum Verdict {
        /** The expected token. */
        ACCEPTED,
        /** No bearer credential at all: 401. */
        MISSING,
        /** A bearer credential, but not the expected one: 403. */
        WRONG;

        /** The tag value of the refusal counter. */
        public String tag() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /**
     * @param authorization the header's value, null when the request has none
     * @param expected      the token; never blank (the caller refuses to check against an empty one)
     */
    public static Verdict check(String authorization, String expected) {
        if (expected == null || expected.isBlank()) {
            throw new IllegalArgumentException("no token to check against");
        }
        if (authorization == null) {
            return Verdict.MISSING;
        }
        String value = authorization.strip();
        int space = value.indexOf(' ');
        if (space < 0 || !value.substring(0, space).equalsIgnoreCase(SCHEME)) {
            return Verdict.MISSING;
        }
        String presented = value.substring(space + 1).strip();
        // digests of both, compared in constant time: neither the content nor the length of the
        // expected token shows in how long a wrong guess takes to refuse
        return MessageDigest.isEqual(sha256(presented), sha256(expected)) ? Verdict.ACCEPTED : Verdict.WRONG;
    }

    private static byte[] sha256(String s) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java runtime has SHA-256", e);
        }
    }
}
