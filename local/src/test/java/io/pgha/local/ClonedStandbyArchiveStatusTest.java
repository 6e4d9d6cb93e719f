package io.pgha.local;

import io.pgha.local.testing.TestPostgres;
import io.pgha.local.testing.TestStandby;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A standby cloned the way pgha clones one ({@link PgCtl#basebackup}) while its primary cannot
 * archive archives the WAL it got from the clone. pg_basebackup marks each WAL file it streamed
 * whole as archived (".done"), so the standby never pushed those: had the primary died with them
 * waiting, they were in no archive, a hole after the failover (this test's first form failed in
 * CI with such a mark). Here the primary switches segments while the clone runs, so that the clone
 * streams whole ones; the primary's archive_command always fails, the standby's (archive_mode =
 * always, as on pgha's instances) copies into a directory, and every segment the primary has
 * waiting from the clone's start on must reach that directory from the standby.
 */
class ClonedStandbyArchiveStatusTest {
    private static final int SWITCHES = 3;

    @Test
    void aStandbyClonedWhileThePrimaryCannotArchiveArchivesWhatItStreamed() throws Exception {
        Path archive = Files.createTempDirectory(Path.of("/tmp"), "pgha-test-archive",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        OsUser.forPostgres().chown(archive);
        String copy = "test ! -f " + archive + "/%f && cp %p " + archive + "/%f";
        try (TestPostgres primary = TestPostgres.start(Map.of("archive_mode", "on", "archive_command", "false"))) {
            try (Connection c = primary.connect(); Statement st = c.createStatement()) {
                st.execute("create table t (i int)");
                writeAndSwitch(st, SWITCHES);
            }
            AtomicBoolean cloning = new AtomicBoolean(true);
            CountDownLatch switched = new CountDownLatch(1);
            CompletableFuture<Integer> switching = CompletableFuture.supplyAsync(() -> switchWhile(primary, cloning, switched));
            assertTrue(switched.await(60, TimeUnit.SECONDS), "the primary switches segments before the clone starts");
            TestStandby clone;
            try {
                clone = TestStandby.start(primary, "standby_1", Map.of("archive_mode", "always", "archive_command", copy));
            } finally {
                cloning.set(false);
            }
            // the switcher's own failure, if any, fails the test here
            switching.get(60, TimeUnit.SECONDS);
            try (TestStandby standby = clone) {
                String cloneStart = cloneStartSegment(standby.dataDir());
                Set<String> waiting;
                try (Connection c = primary.connect(); Statement st = c.createStatement()) {
                    writeAndSwitch(st, SWITCHES);
                    st.execute("checkpoint");
                    String end = scalar(st, "select pg_current_wal_lsn()::text");
                    try (Connection s = standby.connect(); Statement ss = s.createStatement()) {
                        await("the standby replayed everything").atMost(Duration.ofSeconds(60)).until(() ->
                                scalar(ss, "select pg_wal_lsn_diff(pg_last_wal_replay_lsn(), '" + end + "') >= 0").equals("t"));
                        // a restartpoint, as the promotion's checkpoint would be: the segment the clone ended in has no
                        // status (pg_basebackup stopped inside it, the walreceiver went on after it), and PostgreSQL
                        // marks such a segment ready when a restartpoint looks at it for removal
                        ss.execute("checkpoint");
                    }
                    waiting = waitingSegments(primary.dataDir()).stream().filter(s -> s.compareTo(cloneStart) >= 0)
                            .collect(Collectors.toCollection(TreeSet::new));
                }
                assertTrue(waiting.size() >= SWITCHES, "the primary has segments waiting: " + waiting);
                await("the standby archives every segment the primary has waiting since the clone began")
                        .atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
                            Set<String> archived = list(archive);
                            assertTrue(archived.containsAll(waiting), "not archived: "
                                    + waiting.stream().filter(w -> !archived.contains(w)).toList() + "; the standby's marks: "
                                    + list(PgCtl.archiveStatus(standby.dataDir())));
                        });
            }
        } finally {
            try (Stream<Path> files = Files.list(archive)) {
                for (Path f : files.toList()) {
                    Files.delete(f);
                }
            }
            Files.delete(archive);
        }
    }

    /** Writes and switches segments on {@code primary} until {@code cloning} ends, counting down {@code switched} at the first; the number of switches. */
    private static int switchWhile(TestPostgres primary, AtomicBoolean cloning, CountDownLatch switched) {
        int switches = 0;
        try (Connection c = primary.connect(); Statement st = c.createStatement()) {
            while (cloning.get()) {
                // several megabytes per segment: a switch every tens of milliseconds, not a segment file per millisecond
                st.execute("insert into t select generate_series(1, 100000)");
                st.execute("select pg_switch_wal()");
                switches++;
                switched.countDown();
            }
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
        return switches;
    }

    private static void writeAndSwitch(Statement st, int times) throws SQLException {
        for (int i = 0; i < times; i++) {
            st.execute("insert into t select generate_series(1, 10000)");
            st.execute("select pg_switch_wal()");
        }
    }

    /** The segment the clone's WAL begins with, from the backup label the started standby kept as backup_label.old. */
    private static String cloneStartSegment(Path dataDir) throws IOException {
        String label = Files.readString(dataDir.resolve("backup_label.old"));
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("START WAL LOCATION: \\S+ \\(file ([0-9A-F]{24})\\)").matcher(label);
        assertTrue(m.find(), "a start WAL location in the backup label: " + label);
        return m.group(1);
    }

    /** The WAL segments (not history or backup files) marked ready in {@code dataDir}. */
    private static Set<String> waitingSegments(Path dataDir) throws IOException {
        return list(PgCtl.archiveStatus(dataDir)).stream().filter(n -> n.endsWith(PgCtl.READY_SUFFIX))
                .map(n -> n.substring(0, n.length() - PgCtl.READY_SUFFIX.length()))
                .filter(n -> n.matches("[0-9A-F]{24}")).collect(Collectors.toCollection(TreeSet::new));
    }

    private static Set<String> list(Path dir) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(f -> f.getFileName().toString()).collect(Collectors.toCollection(TreeSet::new));
        }
    }

    private static String scalar(Statement st, String sql) throws SQLException {
        try (ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getString(1);
        }
    }
}
