package io.pgha.router.auth;

import io.vertx.core.Future;

import java.util.Optional;

/** Finds a role's SCRAM verifier; empty when the role does not exist or cannot log in with SCRAM. */
public interface AuthLookup {
    Future<Optional<ScramVerifier>> lookup(String user);

    /** Forgets what is cached about a role (after a failed login, for example). */
    default void invalidate(String user) {
    }

    /** Releases what the look-ups hold (server sessions). */
    default void close() {
    }
}
