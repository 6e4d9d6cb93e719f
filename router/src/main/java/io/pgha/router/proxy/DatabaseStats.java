package io.pgha.router.proxy;

/**
 * The traffic of one database's clients since the router started, as PgBouncer's SHOW STATS
 * reports it. Plain fields: they are written and read on the router's event loop only, one add per
 * read, flush, request or transaction, so the hot path pays no more than that.
 */
final class DatabaseStats {
    /** Transactions (and statements outside one) that ended: ReadyForQuery with status idle. */
    long transactions;
    /** Requests relayed: simple Query, Sync of an extended-protocol batch, FunctionCall. */
    long queries;
    /** Bytes received from clients after login. */
    long receivedBytes;
    /** Bytes sent to clients after login. */
    long sentBytes;
    /** Time clients held a server connection. */
    long serverNanos;
}
