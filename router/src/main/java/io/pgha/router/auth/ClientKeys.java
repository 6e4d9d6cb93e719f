package io.pgha.router.auth;

import io.pgha.api.postgres.ScramClient;

import java.util.Arrays;

/**
 * What a successful client exchange leaves the router with: the role's verifier and the
 * ClientKey recovered from the client's proof. With both, the router can log in to any server
 * that holds the same verifier, without ever knowing the password.
 */
public record ClientKeys(ScramVerifier verifier, byte[] clientKey) {
    /**
     * These keys for a login to a server: usable only when the server names the verifier's own salt
     * and iteration count (else the role's password changed since the client logged in).
     */
    public ScramClient.KeySource keySource() {
        return (salt, iterations) -> {
            if (iterations != verifier.iterations() || !Arrays.equals(salt, verifier.salt())) {
                throw new IllegalArgumentException("the server's SCRAM secret differs from the one the client authenticated against"
                        + " (password changed?)");
            }
            return new ScramClient.Keys(clientKey, verifier.storedKey(), verifier.serverKey());
        };
    }
}
