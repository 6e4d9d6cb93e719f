package io.pgha.backup.service;

import com.sun.net.httpserver.HttpServer;
import io.pgha.api.postgres.Lsn;
import io.pgha.backup.core.BackupManifest;
import io.pgha.backup.core.Compression;
import io.pgha.backup.core.RecoveryLog;
import io.pgha.backup.core.WalFileName;
import io.pgha.backup.core.WalRange;
import io.pgha.backup.local.ReplicationConnection;
import io.pgha.backup.local.RestoreDrill;
import io.pgha.backup.local.ServerBaseBackup;
import io.pgha.local.LocalSecrets;
import io.pgha.local.OsUser;
import io.pgha.local.testing.TestPostgres;
import io.pgha.local.testing.TestStandby;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.*;

/**
 * A backup taken from a standby just after a WAL switch, with nothing written since, ends at the
 * next segment's first byte. Restoring it to its end reads the record there, which an idle primary
 * writes only when the backup service's switch makes it; the drill then reaches a consistent
 * state with exactly the segments {@link WalRange#needed} names. (A drill in the Kubernetes
 * end-to-end suite failed this way: "recovery ended before configured recovery target was
 * reached", the segment after the backup's range not in the archive.)
 */
class StandbyBackupEndTest {
    private static final long SEGMENT = 16L * 1024 * 1024;
    private static final Duration TIMEOUT = Duration.ofSeconds(60);
    /** The bgwriter may write a record after the switch before the backup ends; the case needs a quiet primary. */
    private static final int ATTEMPTS = 3;
    private static final String SLOT = "standby_1";

    @Test
    void aStandbysBackupEndingOnASegmentBoundaryRestoresToItsEndWithTheSegmentsItsRangeNeeds() throws Exception {
        Path root = Files.createTempDirectory(Path.of("/tmp"), "pgha-test-standby-end",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
        Path archive = root.resolve("archive");
        Files.createDirectories(archive);
        OsUser.forPostgres().chown(root);
        OsUser.forPostgres().chown(archive);
        Map<String, String> archiving = Map.of("archive_mode", "on", "archive_command", "cp %p " + archive + "/%f");
        try (TestPostgres primary = TestPostgres.start(archiving)) {
            try (Connection c = primary.connect(); Statement st = c.createStatement()) {
                st.execute("create table t (i int)");
                st.execute("insert into t select generate_series(1, 1000)");
            }
            try (TestStandby standby = TestStandby.start(primary, SLOT, Map.of())) {
                LocalSecrets.Credentials superuser = new LocalSecrets.Credentials(TestPostgres.SUPERUSER, primary.superuserPassword(), "postgres");

                Backup backup = null;
                for (int attempt = 0; attempt < ATTEMPTS && backup == null; attempt++) {
                    Lsn boundary;
                    try (Connection c = primary.connect(); Statement st = c.createStatement()) {
                        st.execute("insert into t values (0)");
                        st.execute("select pg_switch_wal()");
                        boundary = Lsn.parse(scalar(st, "select pg_current_wal_lsn()"));
                    }
                    await("the standby replays the switch").atMost(TIMEOUT)
                            .until(() -> Lsn.parse(standbyScalar(standby, "select pg_last_wal_replay_lsn()")).isAtLeast(boundary));
                    Backup taken = Backup.take(standby.port(), superuser);
                    if (taken.end().equals(boundary)) {
                        backup = taken;
                    }
                }
                assertNotNull(backup, "in " + ATTEMPTS + " attempts the standby's backup never ended at the segment boundary"
                        + " its primary switched to");
                List<WalFileName> needed = WalRange.needed(backup.ranges(), SEGMENT);
                WalFileName startingAtEnd = WalFileName.segmentOf(1, backup.end(), SEGMENT);
                assertEquals(startingAtEnd, needed.get(needed.size() - 1), "the segment that starts at the backup's end is needed");

                // what the backup service does while it waits for the backup's WAL: the primary writes a record and switches
                try (Connection c = primary.connect(); Statement st = c.createStatement()) {
                    for (String sql : BaseBackups.SWITCH_WAL) {
                        st.execute(sql);
                    }
                }
                await("the primary archives the segment that starts at the backup's end").atMost(TIMEOUT)
                        .until(() -> Files.exists(archive.resolve(startingAtEnd.name())));

                RecoveryLog.Verdict verdict = drill(root, backup, needed.stream().map(w -> archive.resolve(w.name())).toList());
                assertInstanceOf(RecoveryLog.Consistent.class, verdict, "the drill with the segments the range needs: " + verdict);
            }
        } finally {
            try (Stream<Path> files = Files.walk(root)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    /** The drill of {@code backup} whose restore_command finds exactly {@code segments}, served as the backup service serves WAL. */
    private static RecoveryLog.Verdict drill(Path root, Backup backup, List<Path> segments) throws IOException {
        Set<String> served = segments.stream().map(p -> p.getFileName().toString()).collect(Collectors.toSet());
        HttpServer wal = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        wal.createContext("/wal/standby-end/", exchange -> {
            String file = exchange.getRequestURI().getPath().substring("/wal/standby-end/".length());
            byte[] body = served.contains(file) ? Files.readAllBytes(root.resolve("archive").resolve(file))
                    : ("not in the archive (beyond its end): " + file + "\n").getBytes();
            exchange.sendResponseHeaders(served.contains(file) ? 200 : 404, body.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        });
        wal.start();
        try (RestoreDrill drill = RestoreDrill.create(root.resolve("drills"), "standby-end")) {
            // restore_command sends the drill's token file as a header: it must exist, though this server does not check it
            drill.walToken();
            drill.extract(new ByteArrayInputStream(backup.tar()), bytes -> {
            });
            URI endpoint = URI.create("http://127.0.0.1:" + wal.getAddress().getPort() + "/wal/standby-end/");
            return drill.recover(backup.end(), endpoint, TIMEOUT, line -> {
            });
        } finally {
            wal.stop(0);
        }
    }

    /** A base backup of the standby: its tar and its manifest's WAL ranges. */
    private record Backup(byte[] tar, List<WalRange> ranges) {
        static Backup take(int port, LocalSecrets.Credentials user) throws IOException {
            try (ReplicationConnection c = ReplicationConnection.open("127.0.0.1", port, user, "test", TIMEOUT);
                 ServerBaseBackup backup = ServerBaseBackup.start(c, "standby-end", Compression.NONE, 1)) {
                byte[] tar;
                try (InputStream archive = backup.archive()) {
                    tar = archive.readAllBytes();
                }
                return new Backup(tar, BackupManifest.walRanges(backup.manifest().orElseThrow()));
            }
        }

        Lsn end() {
            return ranges.get(ranges.size() - 1).end();
        }
    }

    private static String standbyScalar(TestStandby standby, String sql) throws SQLException {
        try (Connection c = standby.connect(); Statement st = c.createStatement()) {
            return scalar(st, sql);
        }
    }

    private static String scalar(Statement st, String sql) throws SQLException {
        try (ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getString(1);
        }
    }
}
