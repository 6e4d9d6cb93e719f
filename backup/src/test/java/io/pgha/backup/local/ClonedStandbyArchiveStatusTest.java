package io.pgha.backup.local;

import io.pgha.local.testing.TestPostgres;
import io.pgha.local.testing.TestStandby;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A standby cloned the way pgha clones one (pg_basebackup -X stream) while its primary cannot
 * archive never takes a segment for archived: the WAL it got from the clone carries no
 * archive status, and with archive_mode = always what it streams afterwards waits as ready. A
 * ".done" there would be a segment nobody archives once the primary dies with it waiting (a hole
 * in the archive after a failover). Neither archive_command here ever succeeds, so no segment may
 * be marked done.
 */
class ClonedStandbyArchiveStatusTest {
    private static final String NEVER_ARCHIVES = "false";
    private static final int SWITCHES = 3;

    @Test
    void aStandbyClonedWhileThePrimaryCannotArchiveMarksNoSegmentArchived() throws Exception {
        try (TestPostgres primary = TestPostgres.start(Map.of("archive_mode", "always", "archive_command", NEVER_ARCHIVES))) {
            try (Connection c = primary.connect(); Statement st = c.createStatement()) {
                st.execute("create table t (i int)");
                writeAndSwitch(st);
            }
            try (TestStandby standby = TestStandby.start(primary, "standby_1",
                    Map.of("archive_mode", "always", "archive_command", NEVER_ARCHIVES))) {
                String end;
                try (Connection c = primary.connect(); Statement st = c.createStatement()) {
                    writeAndSwitch(st);
                    end = scalar(st, "select pg_current_wal_lsn()::text");
                }
                try (Connection s = standby.connect(); Statement ss = s.createStatement()) {
                    await("the standby received everything").atMost(Duration.ofSeconds(60)).until(() ->
                            scalar(ss, "select pg_wal_lsn_diff(pg_last_wal_receive_lsn(), '" + end + "') >= 0").equals("t"));
                    // a restartpoint: segments without a status are then looked at for removal
                    ss.execute("checkpoint");
                }
                List<String> marks = archiveStatus(standby.dataDir());
                assertFalse(marks.stream().anyMatch(m -> m.endsWith(".done")),
                        "no segment is marked archived where nothing was ever archived: " + marks);
                assertTrue(marks.stream().filter(m -> m.endsWith(".ready")).count() >= SWITCHES,
                        "what the standby streamed after its clone waits to be archived: " + marks);
                assertEquals(List.of(), archiveStatus(primary.dataDir()).stream().filter(m -> m.endsWith(".done")).toList());
            }
        }
    }

    private static void writeAndSwitch(Statement st) throws SQLException {
        for (int i = 0; i < SWITCHES; i++) {
            st.execute("insert into t select generate_series(1, 10000)");
            st.execute("select pg_switch_wal()");
        }
    }

    private static List<String> archiveStatus(Path dataDir) throws IOException {
        try (Stream<Path> files = Files.list(dataDir.resolve("pg_wal/archive_status"))) {
            return files.map(f -> f.getFileName().toString()).sorted().toList();
        }
    }

    private static String scalar(Statement st, String sql) throws SQLException {
        try (ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getString(1);
        }
    }
}
