package io.pgha.provisioner.model;

import io.pgha.api.validation.PostgresParameters;

import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The part of the shared configuration that takes effect only when a server restarts, and the
 * order in which a change of it must reach the instances. Normally standbys restart first and
 * the primary last (after a switchover), but a standby refuses to run with less of some resources
 * than its primary has, so lowering one of those restarts the primary first. Pure.
 */
public final class RestartSettings {
    /** Settings a hot standby may not have lower than its primary (PostgreSQL checks them at startup). */
    public static final Set<String> STANDBY_AT_LEAST_PRIMARY = Set.of("max_connections", "max_worker_processes",
            "max_wal_senders", "max_prepared_transactions", "max_locks_per_transaction");

    private RestartSettings() {
    }

    /** The settings among {@code shared} that need a restart, sorted by name. */
    public static Map<String, String> of(Map<String, String> shared) {
        Map<String, String> restart = new TreeMap<>();
        shared.forEach((k, v) -> {
            if (PostgresParameters.find(k).map(PostgresParameters.Parameter::needsRestart).orElse(false)) {
                restart.put(k, v);
            }
        });
        return restart;
    }

    /**
     * True when going from {@code running} (what the primary was started with) to {@code desired}
     * lowers a setting a standby may not have lower than its primary: the primary restarts first.
     */
    public static boolean primaryFirst(Map<String, String> running, Map<String, String> desired) {
        for (String name : STANDBY_AT_LEAST_PRIMARY) {
            Long before = number(running.get(name));
            Long after = number(desired.get(name));
            if (before != null && after != null && after < before) {
                return true;
            }
        }
        return false;
    }

    /** One line per setting, as pgha records them on an instance. */
    public static String render(Map<String, String> settings) {
        StringBuilder out = new StringBuilder();
        new TreeMap<>(settings).forEach((k, v) -> out.append(k).append('=').append(v).append('\n'));
        return out.toString();
    }

    public static Map<String, String> parse(String rendered) {
        Map<String, String> settings = new TreeMap<>();
        if (rendered == null) {
            return settings;
        }
        for (String line : rendered.split("\n")) {
            int eq = line.indexOf('=');
            if (eq > 0) {
                settings.put(line.substring(0, eq), line.substring(eq + 1));
            }
        }
        return settings;
    }

    private static Long number(String value) {
        try {
            return value == null ? null : Long.parseLong(value.trim());
        } catch (NumberFormatException e) {
            return null;
        }
    }
}
