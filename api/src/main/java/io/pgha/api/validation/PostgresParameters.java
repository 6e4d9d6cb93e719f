package io.pgha.api.validation;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * PostgreSQL 15's server parameters (from {@code postgres --describe-config}) and the ones pgha
 * manages itself, which a spec may not set.
 */
public final class PostgresParameters {
    /** When a change takes effect, as pg_settings.context says. */
    public enum Context { INTERNAL, POSTMASTER, SIGHUP, SUPERUSER_BACKEND, BACKEND, SUPERUSER, USER }

    public enum Type { BOOLEAN, INTEGER, REAL, STRING, ENUM }

    public record Parameter(String name, Context context, Type type) {
        /** Changing it needs a restart of the server. */
        public boolean needsRestart() {
            return context == Context.POSTMASTER || context == Context.INTERNAL;
        }
    }

    /**
     * Set by pgha for every instance: replication, archiving, addresses, identity and files. A spec
     * that sets one of these could break failover, backups or isolation, so it is rejected.
     */
    public static final Set<String> MANAGED = Set.of(
            "port", "listen_addresses", "unix_socket_directories", "unix_socket_group", "unix_socket_permissions",
            "wal_level", "hot_standby", "full_page_writes", "wal_log_hints", "fsync",
            "archive_mode", "archive_command", "archive_library", "archive_timeout", "archive_cleanup_command", "restore_command",
            "recovery_target", "recovery_target_lsn", "recovery_target_name", "recovery_target_time",
            "recovery_target_xid", "recovery_target_inclusive", "recovery_target_timeline", "recovery_target_action",
            "primary_conninfo", "primary_slot_name", "promote_trigger_file", "synchronous_standby_names",
            "cluster_name", "max_slot_wal_keep_size", "data_directory", "config_file", "hba_file", "ident_file",
            "external_pid_file", "password_encryption");

    /**
     * Parameters that load code or a command chosen by whoever edits the manifest, which would run
     * as the postgres OS user next to the superuser password, or that move the server's own files
     * (log_directory and log_filename can point the server log at any path it may write).
     */
    public static final Set<String> REFUSED = Set.of(
            "recovery_end_command", "ssl_passphrase_command", "session_preload_libraries", "local_preload_libraries",
            "dynamic_library_path", "jit_provider", "log_directory", "log_filename");

    public static final String SHARED_PRELOAD_LIBRARIES = "shared_preload_libraries";

    /** The contrib modules PostgreSQL 15 ships that are meant to be loaded through shared_preload_libraries. */
    public static final Set<String> PRELOAD_ALLOWED = Set.of(
            "auth_delay", "auto_explain", "passwordcheck", "pg_prewarm", "pg_stat_statements");

    private static final Pattern BOOLEAN = Pattern.compile("(?i)^(on|off|true|false|yes|no|1|0|t|f|y|n)$");
    /** A number, optionally with one of PostgreSQL's memory or time units. */
    private static final Pattern NUMBER = Pattern.compile("^-?[0-9]+(\\.[0-9]+)?\\s*(B|kB|MB|GB|TB|us|ms|s|min|h|d)?$");

    private static final Map<String, Parameter> KNOWN = load();

    private PostgresParameters() {
    }

    /** The name as PostgreSQL compares it: parameter names are case-insensitive (ASCII folding). */
    public static String canonicalName(String name) {
        return name.toLowerCase(Locale.ROOT);
    }

    public static Optional<Parameter> find(String name) {
        return Optional.ofNullable(KNOWN.get(canonicalName(name)));
    }

    public static boolean isManaged(String name) {
        return MANAGED.contains(canonicalName(name));
    }

    public static boolean isRefused(String name) {
        return REFUSED.contains(canonicalName(name));
    }

    /** The libraries of a shared_preload_libraries value outside {@link #PRELOAD_ALLOWED}, in order. */
    public static List<String> disallowedPreloads(String value) {
        List<String> disallowed = new ArrayList<>();
        for (String item : value.split(",")) {
            String library = item.trim().replace("\"", "");
            if (!library.isEmpty() && !PRELOAD_ALLOWED.contains(library)) {
                disallowed.add(library);
            }
        }
        return disallowed;
    }

    /**
     * A value as a quoted string in postgresql.conf, the way PostgreSQL's configuration lexer reads
     * it back: a backslash starts an escape there, so it is doubled, and a quote is doubled.
     */
    public static String confQuote(String value) {
        return "'" + value.replace("\\", "\\\\").replace("'", "''") + "'";
    }

    /**
     * Why {@code value} cannot be a value of {@code parameter}, or empty when it can. Only the
     * syntax is checked; PostgreSQL itself checks ranges when it loads the file.
     */
    public static Optional<String> checkValue(Parameter parameter, String value) {
        if (value == null || value.isEmpty()) {
            return Optional.of("needs a value");
        }
        if (value.chars().anyMatch(c -> Character.isISOControl(c) && c != '\t')) {
            // a newline or other control character would end or corrupt the postgresql.conf line
            return Optional.of("must be a single line without control characters");
        }
        return switch (parameter.type()) {
            case BOOLEAN -> BOOLEAN.matcher(value).matches() ? Optional.empty()
                    : Optional.of("expects on or off, got '" + value + "'");
            case INTEGER, REAL -> NUMBER.matcher(value.trim()).matches() ? Optional.empty()
                    : Optional.of("expects a number (with an optional unit), got '" + value + "'");
            default -> Optional.empty();
        };
    }

    private static Map<String, Parameter> load() {
        Map<String, Parameter> result = new TreeMap<>();
        try (InputStream in = PostgresParameters.class.getResourceAsStream("pg15-parameters.tsv");
             BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
            String line;
            while ((line = reader.readLine()) != null) {
                if (line.isBlank() || line.startsWith("#")) {
                    continue;
                }
                String[] f = line.split("\t");
                result.put(f[0], new Parameter(f[0],
                        Context.valueOf(f[1].toUpperCase(Locale.ROOT).replace('-', '_')),
                        Type.valueOf(f[2])));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return Map.copyOf(result);
    }
}
