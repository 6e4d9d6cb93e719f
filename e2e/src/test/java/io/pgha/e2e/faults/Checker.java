package io.pgha.e2e.faults;

import io.pgha.e2e.Launcher;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;

/**
 * The verdict on a run, reached without asking pgha anything but the instances' addresses: it asks
 * every instance itself whether it is writable, takes the one primary's rows and the history file
 * of its timeline, and judges every acknowledged write by them.
 *
 * <ul>
 *   <li><b>lost</b>: an acknowledged write whose row is not on the final primary;</li>
 *   <li><b>past the fork</b>: a write acknowledged on a timeline that is not the final one at or
 *   after the point where its successor forked off (the switchpoint in the final timeline's
 *   {@code .history} file), or on a timeline outside the final primary's ancestry.</li>
 * </ul>
 */
final class Checker {
    /**
     * What the checker found; {@code problems} names each bad write (the first few);
     * {@code bytesPastFork} is how far past its fork the furthest write acknowledged on an
     * ancestor timeline lies (0 when none): the WAL a failover discarded, at least.
     */
    record Verdict(String primary, int timeline, Map<Integer, Long> forks, long acknowledged, long lost, long pastFork,
                   long bytesPastFork, List<String> problems) {
    }

    private static final int SHOWN = 10;

    private Checker() {
    }

    /**
     * @param superuserUris instance name to its superuser {@code postgresql://} URI
     * @throws AssertionError when not exactly one instance is writable
     */
    static Verdict check(Map<String, String> superuserUris, List<Ack> acks) throws SQLException {
        List<String> writable = writable(superuserUris);
        if (writable.size() != 1) {
            throw new AssertionError("expected exactly one writable instance, found " + writable);
        }
        String primary = writable.get(0);
        try (Connection c = open(superuserUris.get(primary)); Statement s = c.createStatement()) {
            int timeline;
            try (ResultSet rs = s.executeQuery("SELECT ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int")) {
                rs.next();
                timeline = rs.getInt(1);
            }
            Map<Integer, Long> forks = new HashMap<>();
            if (timeline > 1) {
                try (ResultSet rs = s.executeQuery(String.format("SELECT pg_read_file('pg_wal/%08X.history')", timeline))) {
                    rs.next();
                    forks = History.switchpoints(rs.getString(1));
                }
            }
            Set<String> rows = new HashSet<>();
            try (ResultSet rs = s.executeQuery("SELECT writer, id FROM " + Writers.TABLE)) {
                while (rs.next()) {
                    rows.add(rs.getString(1) + "/" + rs.getLong(2));
                }
            }
            long lost = 0;
            long pastFork = 0;
            long bytesPastFork = 0;
            List<String> problems = new ArrayList<>();
            for (Ack a : acks) {
                if (!rows.contains(a.writer() + "/" + a.id())) {
                    lost++;
                    note(problems, "lost: " + a);
                }
                if (a.timeline() != timeline) {
                    Long fork = forks.get(a.timeline());
                    if (fork == null || a.lsn() >= fork) {
                        pastFork++;
                        bytesPastFork = fork == null ? bytesPastFork : Math.max(bytesPastFork, a.lsn() - fork);
                        note(problems, "acknowledged past the fork " + (fork == null ? "(not an ancestor timeline)"
                                : History.lsn(fork)) + ": " + a + " at " + History.lsn(a.lsn()));
                    }
                }
            }
            return new Verdict(primary, timeline, forks, acks.size(), lost, pastFork, bytesPastFork, problems);
        }
    }

    /** The instances that answer as writable (not in recovery) now; one that does not answer acknowledges nothing. */
    static List<String> writable(Map<String, String> superuserUris) {
        List<String> writable = new ArrayList<>();
        for (var e : superuserUris.entrySet()) {
            try (Connection c = open(e.getValue()); Statement s = c.createStatement();
                 ResultSet rs = s.executeQuery("SELECT pg_is_in_recovery()")) {
                rs.next();
                if (!rs.getBoolean(1)) {
                    writable.add(e.getKey());
                }
            } catch (SQLException down) {
                // an instance that does not answer acknowledges nothing now
            }
        }
        return writable;
    }

    private static void note(List<String> problems, String problem) {
        if (problems.size() < SHOWN) {
            problems.add(problem);
        }
    }

    private static Connection open(String uri) throws SQLException {
        Properties p = Launcher.credentials(uri);
        p.setProperty("connectTimeout", "3");
        p.setProperty("socketTimeout", "10");
        return DriverManager.getConnection(Launcher.jdbcUrl(uri), p);
    }
}
