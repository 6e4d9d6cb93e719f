package io.pgha.provisioner.local;

import io.pgha.local.LocalSecrets.Credentials;
import io.pgha.local.PgCtl;
import io.pgha.local.Sql;
import io.pgha.provisioner.model.InstanceFacts;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;

/** One look at a local instance: its postmaster, whether it answers, and its replication view. */
final class InstanceProbe {
    private InstanceProbe() {
    }

    static InstanceFacts look(String name, Path dataDir, int port, Credentials superuser) {
        OptionalLong pid = PgCtl.postmasterPid(dataDir);
        if (pid.isEmpty()) {
            return InstanceFacts.down(name);
        }
        try (Connection c = Sql.connect(port, superuser, "postgres"); Statement s = c.createStatement()) {
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
            return new InstanceFacts(name, pid.getAsLong(), true, inRecovery, streaming, slots, lag);
        } catch (SQLException e) {
            return new InstanceFacts(name, pid.getAsLong(), false, null, Set.of(), Set.of(), Map.of());
        }
    }
}
