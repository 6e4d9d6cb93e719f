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

    /**
     * The highest timeline whose history file is in the server's pg_wal: on a standby, the
     * timeline it follows, known also while no WAL receiver runs (a standby gets a timeline's
     * history file with its base backup, from the WAL sender when it follows a promotion, or from
     * pg_rewind). NULL when there is none (timeline 1 has no history file). Needs pg_monitor or a
     * superuser. pg_control_checkpoint()'s timeline lags behind it until the next restartpoint.
     */
    public static final String HIGHEST_HISTORY_TIMELINE = "(SELECT max(('x' || substr(name, 1, 8))::bit(32)::int) "
            + "FROM pg_ls_waldir() WHERE name ~ '^[0-9A-F]{8}\\.history$')";
}
