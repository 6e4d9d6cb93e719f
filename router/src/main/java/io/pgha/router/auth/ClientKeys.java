package io.pgha.router.auth;

/**
 * What a successful client exchange leaves the router with: the role's verifier and the
 * ClientKey recovered from the client's proof. With both, the router can log in to any server
 * that holds the same verifier, without ever knowing the password.
 */
public record ClientKeys(ScramVerifier verifier, byte[] clientKey) {
}
