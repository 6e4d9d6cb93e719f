package io.pgha.router.auth;

import io.pgha.api.postgres.Scram;

import java.util.Base64;

/**
 * A role's stored SCRAM-SHA-256 secret, as in {@code pg_authid.rolpassword}:
 * {@code SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>}. It lets the router check a
 * client's proof and sign its answer, but not compute a proof itself: for that it needs the
 * ClientKey that a successful client exchange reveals.
 */
public record ScramVerifier(int iterations, byte[] salt, byte[] storedKey, byte[] serverKey) {
    public static final String PREFIX = "SCRAM-SHA-256$";

    /** Parses a stored secret; empty when it is absent or not SCRAM-SHA-256 (md5, plain text). */
    public static java.util.Optional<ScramVerifier> parse(String secret) {
        if (secret == null || !secret.startsWith(PREFIX)) {
            return java.util.Optional.empty();
        }
        try {
            String rest = secret.substring(PREFIX.length());
            int dollar = rest.indexOf('$');
            String[] iterSalt = rest.substring(0, dollar).split(":", 2);
            String[] keys = rest.substring(dollar + 1).split(":", 2);
            Base64.Decoder b64 = Base64.getDecoder();
            ScramVerifier v = new ScramVerifier(Integer.parseInt(iterSalt[0]), b64.decode(iterSalt[1]), b64.decode(keys[0]), b64.decode(keys[1]));
            if (v.storedKey.length != Scram.KEY_LENGTH || v.serverKey.length != Scram.KEY_LENGTH || v.iterations < 1) {
                return java.util.Optional.empty();
            }
            return java.util.Optional.of(v);
        } catch (RuntimeException e) {
            return java.util.Optional.empty();
        }
    }

    /** PostgreSQL's default iteration count (scram_iterations), which a decoy must show too. */
    public static final int DEFAULT_ITERATIONS = 4096;

    /**
     * A verifier no proof can satisfy, for a role that does not exist, so that it fails exactly
     * like a known role with a wrong password: its salt is derived from the name and {@code key}
     * (a secret of this router), so asking twice shows the same salt, as for a real role, and
     * nothing tells the two apart.
     */
    public static ScramVerifier decoy(byte[] key, String user) {
        byte[] salt = java.util.Arrays.copyOf(Scram.hmac(key, "salt\0" + user), 16);
        return new ScramVerifier(DEFAULT_ITERATIONS, salt, Scram.hmac(key, "stored\0" + user), Scram.hmac(key, "server\0" + user));
    }
}
