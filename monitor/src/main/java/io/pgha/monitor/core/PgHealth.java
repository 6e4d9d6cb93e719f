package io.pgha.monitor.core;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.pgha.api.postgres.Lsn;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * PostgreSQL's own health as the monitor reads it over the connections it holds anyway: the SQL
 * (each statement answers one JSON text, so that it runs as one round trip and its reading is
 * plain code tested without a server) and what the answers mean. No I/O here.
 *
 * <p>Facts the SQL relies on: {@code pg_current_wal_lsn()} fails on a standby, so WAL retained by
 * a slot is measured on the primary; {@code pg_stat_archiver} is read on the primary only (with
 * {@code archive_mode = always} every standby counts its own archiving too); the XID wraparound
 * risk is the larger of {@code age(datfrozenxid)} and {@code mxid_age(datminmxid)} over all
 * databases; the oldest transaction is among client backends only, the monitor's own excluded.
 */
public final class PgHealth {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Session states PostgreSQL reports in pg_stat_activity.state; each is exported, at 0 when none. */
    public static final List<String> SESSION_STATES = List.of("active", "idle", "idle in transaction",
            "idle in transaction (aborted)", "fastpath function call", "disabled");

    /** Every instance: one row per figure as (metric, key, value), aggregated into one JSON array. */
    public static final String INSTANCE_SQL = "SELECT coalesce(json_agg(r), '[]')::text FROM ("
            + "SELECT 'sessions' AS metric, state AS key, count(*)::float8 AS value FROM pg_stat_activity "
            + "WHERE backend_type = 'client backend' AND state IS NOT NULL GROUP BY state "
            + "UNION ALL SELECT 'oldest_transaction_age', NULL, "
            + "coalesce(extract(epoch FROM max(clock_timestamp() - xact_start)), 0)::float8 FROM pg_stat_activity "
            + "WHERE backend_type = 'client backend' AND pid <> pg_backend_pid() "
            + "UNION ALL SELECT 'xid_age', NULL, max(greatest(age(datfrozenxid), mxid_age(datminmxid)))::float8 FROM pg_database "
            + "UNION ALL SELECT 'database_size', datname, pg_database_size(oid)::float8 FROM pg_database WHERE datallowconn "
            + "UNION ALL SELECT 'deadlocks', NULL, coalesce(sum(deadlocks), 0)::float8 FROM pg_stat_database "
            + "UNION ALL SELECT 'conflicts', NULL, coalesce(sum(conflicts), 0)::float8 FROM pg_stat_database "
            + "UNION ALL SELECT 'checkpoints', 'timed', checkpoints_timed::float8 FROM pg_stat_bgwriter "
            + "UNION ALL SELECT 'checkpoints', 'requested', checkpoints_req::float8 FROM pg_stat_bgwriter "
            + "UNION ALL SELECT 'postmaster_start', NULL, extract(epoch FROM pg_postmaster_start_time())::float8 "
            + "UNION ALL SELECT 'server_version', NULL, current_setting('server_version_num')::float8"
            + ") r";

    /**
     * The primary only: its WAL position, slots, archiver, the standbys' replies and its
     * synchronous_standby_names. NULL (nothing read) when the instance is in recovery after all:
     * it may have been demoted since the check that called it the primary.
     */
    public static final String PRIMARY_SQL = "SELECT CASE WHEN pg_is_in_recovery() THEN NULL ELSE json_build_object("
            + "'current_lsn', pg_current_wal_lsn()::text, "
            + "'slots', (SELECT coalesce(json_agg(json_build_object('name', slot_name, 'active', active, "
            + "'wal_status', wal_status, 'safe_wal_size', safe_wal_size, "
            + "'retained', pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn))), '[]') FROM pg_replication_slots), "
            + "'archiver', (SELECT json_build_object('archived', archived_count, 'failed', failed_count, "
            + "'last_archive_age', extract(epoch FROM clock_timestamp() - last_archived_time)) FROM pg_stat_archiver), "
            + "'replicas', (SELECT coalesce(json_agg(json_build_object('name', application_name, 'sync_state', sync_state, "
            + "'flush_lsn', flush_lsn::text, 'reply_age', extract(epoch FROM clock_timestamp() - reply_time))), '[]') "
            + "FROM pg_stat_replication), "
            + "'synchronous_standby_names', current_setting('synchronous_standby_names'))::text END";

    private PgHealth() {
    }

    /** What {@link #INSTANCE_SQL} read. Sessions hold every state of {@link #SESSION_STATES}. */
    public record Instance(Map<String, Long> sessions, double oldestTransactionAgeSeconds, long xidAge,
                           Map<String, Long> databaseSizeBytes, long deadlocks, long conflicts, long checkpointsTimed,
                           long checkpointsRequested, double postmasterStartSeconds, long serverVersionNum) {
    }

    /**
     * One replication slot. {@code retainedWalBytes}: WAL from the slot's restart_lsn to the
     * primary's position (null when the slot reserves none); {@code safeWalSizeBytes}: what may
     * still be written before the slot is lost to max_slot_wal_keep_size (null: no limit).
     */
    public record Slot(String name, boolean active, String walStatus, Long safeWalSizeBytes, Long retainedWalBytes) {
    }

    /** pg_stat_archiver; {@code lastArchiveAgeSeconds} is null while nothing was archived. */
    public record Archiver(long archived, long failed, Double lastArchiveAgeSeconds) {
    }

    /** One row of pg_stat_replication: a standby's flush position and how long ago it last replied. */
    public record Replica(String name, String syncState, Lsn flushLsn, Double replyAgeSeconds) {
    }

    public record Primary(Lsn currentLsn, List<Slot> slots, Archiver archiver, List<Replica> replicas,
                          String synchronousStandbyNames) {
    }

    /** Reads {@link #INSTANCE_SQL}'s answer. */
    public static Instance instance(String json) {
        Map<String, Long> sessions = new LinkedHashMap<>();
        SESSION_STATES.forEach(s -> sessions.put(s, 0L));
        Map<String, Long> sizes = new LinkedHashMap<>();
        Map<String, Double> one = new LinkedHashMap<>();
        long timed = 0;
        long requested = 0;
        for (JsonNode row : parse(json)) {
            String metric = row.path("metric").asText();
            String key = row.path("key").isNull() ? null : row.path("key").asText();
            double value = row.path("value").asDouble();
            switch (metric) {
                case "sessions" -> sessions.put(key, (long) value);
                case "database_size" -> sizes.put(key, (long) value);
                case "checkpoints" -> {
                    if ("timed".equals(key)) {
                        timed = (long) value;
                    } else {
                        requested = (long) value;
                    }
                }
                default -> one.put(metric, value);
            }
        }
        return new Instance(sessions, one.getOrDefault("oldest_transaction_age", 0.0),
                one.getOrDefault("xid_age", 0.0).longValue(), sizes, one.getOrDefault("deadlocks", 0.0).longValue(),
                one.getOrDefault("conflicts", 0.0).longValue(), timed, requested,
                one.getOrDefault("postmaster_start", 0.0), one.getOrDefault("server_version", 0.0).longValue());
    }

    /** Reads {@link #PRIMARY_SQL}'s answer; null when it was null (the instance is in recovery). */
    public static Primary primary(String json) {
        if (json == null) {
            return null;
        }
        JsonNode root = parse(json);
        List<Slot> slots = new ArrayList<>();
        for (JsonNode s : root.path("slots")) {
            slots.add(new Slot(s.path("name").asText(), s.path("active").asBoolean(), text(s.path("wal_status")),
                    integer(s.path("safe_wal_size")), integer(s.path("retained"))));
        }
        JsonNode a = root.path("archiver");
        Archiver archiver = new Archiver(a.path("archived").asLong(), a.path("failed").asLong(), decimal(a.path("last_archive_age")));
        List<Replica> replicas = new ArrayList<>();
        for (JsonNode r : root.path("replicas")) {
            replicas.add(new Replica(text(r.path("name")), text(r.path("sync_state")), Lsn.parseNullable(text(r.path("flush_lsn"))),
                    decimal(r.path("reply_age"))));
        }
        return new Primary(Lsn.parse(root.path("current_lsn").asText()), slots, archiver, replicas,
                text(root.path("synchronous_standby_names")));
    }

    private static JsonNode parse(String json) {
        try {
            return JSON.readTree(json);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String text(JsonNode n) {
        return n.isMissingNode() || n.isNull() ? null : n.asText();
    }

    private static Long integer(JsonNode n) {
        return n.isMissingNode() || n.isNull() ? null : n.asLong();
    }

    private static Double decimal(JsonNode n) {
        return n.isMissingNode() || n.isNull() ? null : n.asDouble();
    }
}
