package io.pgha.router.auth;

import java.util.function.Supplier;

/**
 * The least-privilege role the router connects as to look up verifiers and volatile functions.
 * Supplied on every use: in local mode the provisioner creates it after the router started.
 */
public record LookupCredentials(String user, String password) {
    @Override
    public String toString() {
        return "LookupCredentials[" + user + "]";
    }

    public static Supplier<LookupCredentials> fixed(String user, String password) {
        LookupCredentials c = new LookupCredentials(user, password);
        return () -> c;
    }
}
