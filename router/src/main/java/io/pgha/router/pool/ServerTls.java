package io.pgha.router.pool;

/** TLS towards the servers, as libpq's sslmode without certificate verification. */
public enum ServerTls {
    /** Plain TCP. */
    DISABLE,
    /** TLS when the server offers it, plain otherwise. */
    PREFER,
    /** TLS or no connection. */
    REQUIRE
}
