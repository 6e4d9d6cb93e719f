package io.pgha.api.postgres;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * The settings PostgreSQL 15 requires to be at least as high on a server in recovery as on the
 * server that wrote the WAL: lower ones stop recovery with "insufficient parameter settings"
 * (they size shared memory for the transactions and locks the WAL may hold). A base backup records
 * its source's values; a restore and the standbys cloned from it run with them unless their
 * settings are higher.
 */
public final class RecoveryMinimums {
    /** Each setting and PostgreSQL 15's default, which applies where the configuration names none. */
    private static final Map<String, Long> DEFAULTS = defaults();

    /** The names, in PostgreSQL's spelling. */
    public static final List<String> NAMES = List.copyOf(DEFAULTS.keySet());

    /** Reads the running server's values: two columns, name and setting. */
    public static final String SQL = "SELECT name, setting FROM pg_settings WHERE name IN ("
            + NAMES.stream().map(n -> "'" + n + "'").collect(Collectors.joining(", ")) + ")";

    private RecoveryMinimums() {
    }

    private static Map<String, Long> defaults() {
        Map<String, Long> d = new LinkedHashMap<>();
        d.put("max_connections", 100L);
        d.put("max_worker_processes", 8L);
        d.put("max_wal_senders", 10L);
        d.put("max_prepared_transactions", 0L);
        d.put("max_locks_per_transaction", 64L);
        return d;
    }

    /**
     * The source's values that {@code settings} (a configuration under PostgreSQL's spelling of the
     * names) sets lower or leaves at a lower default: what the configuration must take so that
     * recovery of the source's WAL can go on. Names outside {@link #NAMES} and values that are not
     * integers are ignored (PostgreSQL itself refuses a malformed value in the configuration).
     */
    public static Map<String, String> raised(Map<String, String> settings, Map<String, String> source) {
        Map<String, String> raised = new LinkedHashMap<>();
        for (Map.Entry<String, Long> d : DEFAULTS.entrySet()) {
            Long needed = integer(source.get(d.getKey()));
            String configured = settings.get(d.getKey());
            Long have = configured == null ? d.getValue() : integer(configured);
            if (needed != null && have != null && have < needed) {
                raised.put(d.getKey(), Long.toString(needed));
            }
        }
        return raised;
    }

    /** "max_connections=200, max_locks_per_transaction=128", for messages. */
    public static String describe(Map<String, String> settings) {
        return settings.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue()).collect(Collectors.joining(", "));
    }

    private static Long integer(String value) {
        if (value == null) {
            return null;
        }
        try {
            return Long.parseLong(value.strip());
        } catch (NumberFormatException e) {
            return null;
        }
    }
}
