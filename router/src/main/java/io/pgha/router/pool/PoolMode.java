package io.pgha.router.pool;

/** How long a client keeps a server connection. */
public enum PoolMode {
    /** For one transaction (the default); session state pins the client to its connection. */
    TRANSACTION,
    /** For the whole client session; the connection is reset with DISCARD ALL afterwards. */
    SESSION
}
