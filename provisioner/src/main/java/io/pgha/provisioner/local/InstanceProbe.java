package io.pgha.provisioner.local;

import io.pgha.local.LocalSecrets.Credentials;
import io.pgha.local.ServerProcesses;
import io.pgha.local.Sql;
import io.pgha.provisioner.model.InstanceFacts;
import io.pgha.provisioner.model.RestartSettings;
import io.pgha.api.postgres.TimelineHistory;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.TreeMap;

/** One look at a local instance: its postmaster, whether it answers, and its replication view. */
final class InstanceProbe {
    /** The primary's timeline is the one of the WAL file it writes now; pg_control names it only after a checkpoint. */
    private static final String PRIMARY_WAL_SQL = "SELECT ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int, "
            + "pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint, false";
    /**
     * A standby's timeline is the highest one it holds WAL of: a WAL receiver that stopped no
     * longer tells its timeline, and pg_control's lags until the next restartpoint, but WAL
     * segment files are named after the timeline they belong to.
     */
    private static final String STANDBY_WAL_SQL = "SELECT greatest((SELECT received_tli FROM pg_stat_wal_receiver), "
            + "(SELECT timeline_id FROM pg_control_checkpoint()), "
            + "(SELECT max(('x' || substr(name, 1, 8))::bit(32)::int) FROM pg_ls_waldir() WHERE name ~ '^[0-9A-F]{24}$')), "
            + "pg_wal_lsn_diff(greatest(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn()), '0/0')::bigint, "
            + "coalesce((SELECT status = 'streaming' FROM pg_stat_wal_receiver), false)";

    private InstanceProbe() {
    }

    /** Looks at one instance over {@code connections}' kept connection to it. */
    static InstanceFacts look(String name, Path dataDir, int port, Credentials superuser, KeptConnections connections) {
        OptionalLong pid = ServerProcesses.postmaster(dataDir);
        if (pid.isEmpty()) {
            connections.forget(port);
            // backends that outlived their postmaster: running, answering no one new
            return ServerProcesses.all(dataDir).stream().findFirst().map(left -> unreachable(name, left))
                    .orElseGet(() -> InstanceFacts.down(name));
        }
        try {
            return connections.with(port, superuser, c -> facts(name, pid.getAsLong(), c));
        } catch (SQLException e) {
            return unreachable(name, pid.getAsLong());
        }
    }

    private static InstanceFacts unreachable(String name, long pid) {
        return new InstanceFacts(name, pid, false, null, Set.of(), Set.of(), Map.of(), null);
    }

    private static InstanceFacts facts(String name, long pid, Connection c) throws SQLException {
        try (Statement s = c.createStatement()) {
            boolean inRecovery = "t".equals(Sql.value(c, "SELECT pg_is_in_recovery()"));
            Set<String> streaming = new HashSet<>();
            Set<String> slots = new HashSet<>();
            Map<String, Long> lag = new HashMap<>();
            if (!inRecovery) {
                try (ResultSet rs = s.executeQuery("SELECT application_name, state, "
                        + "pg_wal_lsn_diff(pg_current_wal_lsn(), coalesce(replay_lsn, '0/0'))::bigint FROM pg_stat_replication")) {
                    while (rs.next()) {
                        if ("streaming".equals(rs.getString(2))) {
                            streaming.add(rs.getString(1));
                        }
                        lag.put(rs.getString(1), rs.getLong(3));
                    }
                }
                try (ResultSet rs = s.executeQuery("SELECT slot_name FROM pg_replication_slots WHERE active")) {
                    while (rs.next()) {
                        slots.add(rs.getString(1));
                    }
                }
            }
            InstanceFacts.Wal wal;
            try (ResultSet rs = s.executeQuery(inRecovery ? STANDBY_WAL_SQL : PRIMARY_WAL_SQL)) {
                rs.next();
                wal = new InstanceFacts.Wal(rs.getInt(1), rs.getLong(2), rs.getBoolean(3));
            }
            return new InstanceFacts(name, pid, true, inRecovery, streaming, slots, lag, wal);
        }
    }

    /**
     * What a restart of one running instance would change: the settings PostgreSQL itself marks
     * {@code pending_restart} (changed in its configuration files since the server started), when
     * its postmaster started, and the running value and PostgreSQL's default of each setting a
     * standby may not have lower than its primary.
     */
    record RestartState(List<String> pending, Instant startedAt, Map<String, String> running, Map<String, String> defaults) {
        /** Due a restart: a setting waits for one, or a restart was asked for after this server started. */
        boolean due(Instant requestedAt) {
            return !pending.isEmpty() || requestedAt != null && startedAt.isBefore(requestedAt);
        }
    }

    /**
     * The restart state over {@code connections}' kept connection, empty when the instance does not
     * answer. Asked after {@link #look} on the same connection: a backend applies a configuration
     * reload only between two commands, so its first command after a reload still sees the old state.
     */
    static Optional<RestartState> restartState(int port, Credentials superuser, KeptConnections connections) {
        try {
            return Optional.of(connections.with(port, superuser, InstanceProbe::restartState));
        } catch (SQLException e) {
            return Optional.empty();
        }
    }

    private static RestartState restartState(Connection c) throws SQLException {
        List<String> pending = new ArrayList<>();
        Map<String, String> running = new TreeMap<>();
        Map<String, String> defaults = new TreeMap<>();
        try (var q = c.prepareStatement("SELECT name, setting, boot_val, pending_restart FROM pg_settings "
                + "WHERE pending_restart OR name = ANY (?) ORDER BY name")) {
            q.setArray(1, c.createArrayOf("text", RestartSettings.STANDBY_AT_LEAST_PRIMARY.toArray()));
            try (ResultSet rs = q.executeQuery()) {
                while (rs.next()) {
                    if (rs.getBoolean(4)) {
                        pending.add(rs.getString(1));
                    }
                    if (RestartSettings.STANDBY_AT_LEAST_PRIMARY.contains(rs.getString(1))) {
                        running.put(rs.getString(1), rs.getString(2));
                        defaults.put(rs.getString(1), rs.getString(3));
                    }
                }
            }
        }
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT pg_postmaster_start_time()")) {
            rs.next();
            return new RestartState(pending, rs.getTimestamp(1).toInstant(), running, defaults);
        }
    }

    /** The history of the timeline {@code timeline} from the server that is on it. */
    static TimelineHistory history(int port, Credentials superuser, int timeline) throws SQLException {
        try (Connection c = Sql.connect(port, superuser, "postgres")) {
            return TimelineHistory.parse(Sql.value(c, "SELECT pg_read_file(?)", TimelineHistory.file(timeline)));
        }
    }
}
