package io.pgha.api;

/**
 * SQL that reads WAL facts from a server, shared by the services that ask (the monitor, the router).
 */
public final class WalSql {
    private WalSql() {
    }

    /**
     * The timeline a primary writes {@code lsnExpression} on: the first eight hex digits of the
     * name {@code pg_walfile_name} gives its segment, which names the current insert timeline.
     * (pg_control_checkpoint()'s timeline lags: it changes only at the first checkpoint after a
     * promotion.) Errors on a server in recovery, where pg_walfile_name is refused.
     */
    public static String primaryTimeline(String lsnExpression) {
        return "('x' || substr(pg_walfile_name(" + lsnExpression + "), 1, 8))::bit(32)::int";
    }
}
