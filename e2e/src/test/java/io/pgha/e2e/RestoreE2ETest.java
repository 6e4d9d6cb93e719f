package io.pgha.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.pgha.backup.core.BackupInfo;
import io.pgha.backup.core.Compression;
import io.pgha.backup.core.RepositoryLayout;
import io.pgha.backup.repository.Checksums;
import io.pgha.backup.repository.FilesystemRepository;
import io.pgha.backup.repository.ObjectFormat;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Point-in-time recovery through the real launcher: one source cluster writes rows in batches
 * around a base backup, noting each batch's commit time, LSN, xid and a restore point; new
 * clusters, each under its own PGHA_HOME and port range, are restored to each kind of target and
 * must hold exactly the batches committed before it, be Ready with every instance streaming, take
 * their own credentials (not the source's) through the router, and take writes. The source runs
 * with a higher max_connections and max_locks_per_transaction than the restores' manifests ask for
 * (recovery needs them at least as high: the restores take them from the backup), and has a
 * standby, so that the last test can kill its primary while segments wait to be archived.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class RestoreE2ETest {
    private static final String SOURCE = "src";
    private static final int ROWS_PER_BATCH = 5;
    /** The source's settings above PostgreSQL's defaults (100 and 64) that recovery needs at least as high. */
    private static final String SOURCE_MAX_CONNECTIONS = "150";
    private static final String SOURCE_MAX_LOCKS = "128";

    private Launcher source;
    private Path repository;
    private BackupInfo backup;
    private String afterBatch2Time;
    private String afterBatch3Lsn;
    private static final String RESTORE_POINT = "after-batch-4";
    private long batch5Xid;
    private String sourceAppUri;
    private Launcher refused;

    @BeforeAll
    void sourceWithBatchesAroundABackup() throws Exception {
        source = new Launcher();
        Path manifest = source.home.resolve("src.yaml");
        Files.writeString(manifest, "apiVersion: pgha.io/v1\nkind: PostgresCluster\nmetadata:\n  name: " + SOURCE
                + "\nspec:\n  instances: 2\n  parameters:\n    max_connections: \"" + SOURCE_MAX_CONNECTIONS
                + "\"\n    max_locks_per_transaction: \"" + SOURCE_MAX_LOCKS + "\"\n");
        source.run("up", "-f", manifest.toString()).ok();
        repository = source.home.resolve("backups");
        sourceAppUri = source.uri();
        try (Connection app = Launcher.connect(sourceAppUri); Statement st = app.createStatement();
             Connection su = Launcher.connect(source.uri("--superuser", "--primary")); Statement sus = su.createStatement()) {
            st.execute("CREATE TABLE t (batch int, i int)");
            insertBatch(st, 1);
            List<String> out = source.run("backup").ok().stdout().strip().lines().toList();
            String name = out.get(out.size() - 1);
            backup = BackupInfo.fromJson(name, new FilesystemRepository(repository)
                    .get(new RepositoryLayout(SOURCE, Compression.ZSTD).backupInfoKey(name)).orElseThrow());
            insertBatch(st, 2);
            afterBatch2Time = value(sus, "SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')");
            insertBatch(st, 3);
            afterBatch3Lsn = value(sus, "SELECT pg_current_wal_insert_lsn()");
            insertBatch(st, 4);
            sus.execute("SELECT pg_create_restore_point('" + RESTORE_POINT + "')");
            app.setAutoCommit(false);
            batch5Xid = Long.parseLong(value(st, "SELECT txid_current()"));
            insertBatch(st, 5);
            app.commit();
            app.setAutoCommit(true);
            insertBatch(st, 6);
            String last = value(sus, "SELECT pg_walfile_name(pg_switch_wal())");
            await().atMost(Duration.ofSeconds(60)).until(() ->
                    last.compareTo(value(sus, "SELECT coalesce(last_archived_wal, '') FROM pg_stat_archiver")) <= 0);
        }
    }

    @AfterAll
    void stopSource() throws Exception {
        if (refused != null) {
            refused.close();
        }
        if (source != null) {
            source.close();
        }
    }

    @Test
    @Order(1)
    void toATime() throws Exception {
        restoreAndCheck("time: \"" + afterBatch2Time + "\"", 1, 2);
    }

    @Test
    @Order(2)
    void toAnLsn() throws Exception {
        restoreAndCheck("lsn: " + afterBatch3Lsn, 1, 3);
    }

    @Test
    @Order(3)
    void toARestorePoint() throws Exception {
        restoreAndCheck("name: " + RESTORE_POINT, 1, 4);
    }

    @Test
    @Order(4)
    void toAnXid() throws Exception {
        restoreAndCheck("xid: " + batch5Xid, 1, 5);
    }

    @Test
    @Order(5)
    void toTheEndOfTheBackup() throws Exception {
        restoreAndCheck("immediate: true", 1, 1);
    }

    @Test
    @Order(6)
    void toTheEndOfTheArchiveWithThreeInstances() throws Exception {
        try (Launcher dst = new Launcher()) {
            checkRestored(dst, restoreManifest(dst, null, 3), 3, 6, null, sourceAppUri);
            // the manifest sets neither: every instance, the standbys too, runs with the source's values
            for (JsonNode i : dst.status().get("instances")) {
                try (Connection c = dst.superuser(i.get("name").asText()); Statement st = c.createStatement()) {
                    assertEquals(SOURCE_MAX_CONNECTIONS, value(st, "SHOW max_connections"), i.toString());
                    assertEquals(SOURCE_MAX_LOCKS, value(st, "SHOW max_locks_per_transaction"), i.toString());
                }
            }
            assertArchivesItsNewTimeline(dst);
        }
    }

    /**
     * A restore to the end of the archive is held there and promoted by pgha. No signal file may be
     * left on its primary: PostgreSQL leaves recovery.signal behind in that case, and with it there
     * a restart would recover again and archive_command would skip segments. The new timeline's
     * segments reach the restored cluster's own archive.
     */
    static void assertArchivesItsNewTimeline(Launcher dst) throws Exception {
        String primary = dst.status().get("currentPrimary").asText();
        Path data = dst.home.resolve("instances").resolve(primary).resolve("data");
        assertTrue(Files.isDirectory(data), data.toString());
        for (String signal : List.of("recovery.signal", "standby.signal")) {
            assertFalse(Files.exists(data.resolve(signal)), signal + " left in " + data);
        }
        try (Connection c = dst.superuser(primary); Statement st = c.createStatement()) {
            String switched = value(st, "SELECT pg_walfile_name(pg_switch_wal())");
            assertTrue(switched.startsWith("00000002"), switched);
            await().atMost(Duration.ofSeconds(60)).until(() -> switched.compareTo(new ObjectMapper()
                    .readTree(dst.run("backups", "--json").ok().stdout()).path("archive").path("lastArchivedWal").asText()) <= 0);
        }
    }

    @Test
    @Order(7)
    void aTargetOutsideTheWindowIsRefusedUpFront() throws Exception {
        Launcher dst = refused();
        Launcher.Result r = dst.run("up", "-f", restoreManifest(dst, "time: \"2020-01-01T00:00:00Z\"", 1).toString());
        assertNotEquals(0, r.exitCode(), r.stderr());
        assertTrue(r.stderr().contains("target time 2020-01-01T00:00:00Z is before the end of the first backup"), r.stderr());
        assertTrue(r.stderr().contains("prefix '" + SOURCE + "' can be recovered from " + backup.finishedAt()), r.stderr());
        // nothing was started
        assertTrue(dst.status().get("instances").isEmpty(), dst.status().toString());
    }

    /**
     * The state directory (and services) of the restores that fail: a restore refused up front
     * leaves nothing behind, and a changed manifest is a new attempt, so one serves them in turn.
     */
    private Launcher refused() throws Exception {
        if (refused == null) {
            refused = new Launcher();
        }
        return refused;
    }

    @Test
    @Order(8)
    void aRestoreIntoItsSourcesPrefixIsRefused() throws Exception {
        // the restored cluster would archive as "src" into the source's own repository, which its spec.backup names
        try (Launcher dst = new Launcher()) {
            Path manifest = restoreManifest(dst, null, 1);
            Files.writeString(manifest, Files.readString(manifest).replace("name: dst", "name: " + SOURCE)
                    + "  backup:\n    repository:\n      filesystem:\n        path: " + repository + "\n");
            Launcher.Result r = dst.run("up", "-f", manifest.toString());
            assertNotEquals(0, r.exitCode(), r.stderr());
            assertTrue(r.stderr().contains("prefix '" + SOURCE + "' of the repository (directory " + repository
                    + ") already holds a WAL archive"), r.stderr());
            assertTrue(r.stderr().contains("a restored cluster must archive into an empty prefix"), r.stderr());
            assertTrue(dst.status().get("instances").isEmpty(), dst.status().toString());
        }
    }

    @Test
    @Order(9)
    void aCorruptSegmentFailsTheRestoreNamingIt() throws Exception {
        // the first segment after the backup's own: it holds batch 2
        Path segment;
        try (var files = Files.walk(repository.resolve(SOURCE).resolve("wal"))) {
            segment = files.filter(f -> f.getFileName().toString().matches("[0-9A-F]{24}\\.zst"))
                    .filter(f -> f.getFileName().toString().compareTo(backup.endWal()) > 0).sorted().findFirst().orElseThrow();
        }
        byte[] original = Files.readAllBytes(segment);
        byte[] corrupt = original.clone();
        corrupt[corrupt.length - 1] ^= 0x55;
        Files.write(segment, corrupt);
        String name = segment.getFileName().toString().replace(".zst", "");
        try {
            Launcher dst = refused();
            Launcher.Result r = dst.run("up", "-f", restoreManifest(dst, null, 1).toString());
            assertNotEquals(0, r.exitCode(), r.stderr());
            assertTrue(r.stderr().contains("the cluster failed:") && r.stderr().contains(name), r.stderr());
            assertTrue(r.stderr().contains("corrupt"), r.stderr());
        } finally {
            Files.write(segment, original);
        }
    }

    /**
     * A backup_manifest that says another checksum for PG_VERSION than its tar holds (rewritten
     * whole, with its own checksum and the repository's made again, so that only the comparison of
     * the files can find it): the restore fails naming the file, before it starts a server.
     */
    @Test
    @Order(9)
    void aBaseBackupThatDoesNotMatchItsManifestFailsTheRestoreNamingTheFile() throws Exception {
        Path stored = repository.resolve(new RepositoryLayout(SOURCE, Compression.ZSTD).manifestKey(backup.name()));
        byte[] original = Files.readAllBytes(stored);
        String manifest = new String(Compression.ZSTD.decompress(
                new FilesystemRepository(repository).get(repository.relativize(stored).toString()).orElseThrow()), StandardCharsets.UTF_8);
        String changed = manifest.replaceFirst("(\\{ \"Path\": \"PG_VERSION\",[^}]*\"Checksum\": \")[0-9a-f]{8}", "$100000000");
        assertNotEquals(manifest, changed);
        // PostgreSQL's Manifest-Checksum: SHA-256 of everything before the manifest's last line
        int lastLine = changed.lastIndexOf('\n', changed.length() - 2) + 1;
        byte[] covered = changed.substring(0, lastLine).getBytes(StandardCharsets.UTF_8);
        changed = changed.substring(0, lastLine) + changed.substring(lastLine)
                .replaceFirst("[0-9a-f]{64}", Checksums.sha256(covered));
        byte[] payload = Compression.ZSTD.compress(changed.getBytes(StandardCharsets.UTF_8));
        Files.write(stored, ObjectFormat.header(Checksums.sha256(payload)));
        Files.write(stored, payload, java.nio.file.StandardOpenOption.APPEND);
        // a state directory of its own: the same manifest in refused()'s would be taken for the failed restore there
        try (Launcher dst = new Launcher()) {
            Launcher.Result r = dst.run("up", "-f", restoreManifest(dst, null, 1).toString());
            assertNotEquals(0, r.exitCode(), r.stderr());
            assertTrue(r.stderr().contains("does not match its backup_manifest: \"PG_VERSION\" has CRC32C checksum "), r.stderr());
            assertTrue(r.stderr().contains("fetching base backup " + backup.name() + " failed"), "before any server starts: " + r.stderr());
        } finally {
            Files.write(stored, original);
        }
    }

    /**
     * The source's primary is killed with SIGKILL while the segments holding batches 7 and 8 wait
     * to be archived (the backup service is stopped with SIGSTOP meanwhile); the standby that takes
     * over archives them itself (archive_mode always), so the archive has no hole, and a restore to
     * a time after the failover holds batches 1 to 9: 7 and 8 from the old timeline, 9 from the new
     * one, and not 10, committed after the target.
     */
    @Test
    @Order(10)
    void toATimeAfterAFailoverWhileSegmentsWaitedToBeArchived() throws Exception {
        String oldPrimary = source.status().get("currentPrimary").asText();
        String standby = null;
        for (JsonNode i : source.status().get("instances")) {
            if (!i.get("name").asText().equals(oldPrimary)) {
                standby = i.get("name").asText();
            }
        }
        assertNotNull(standby, "the source has no standby");
        String newPrimary = standby;
        // everything the launcher answers is asked before the backup service stops
        long backupService = Long.parseLong(Files.readString(source.home.resolve("run/backup.pid")).strip());
        long primaryPid = source.instance(oldPrimary).get("pid").asLong();
        List<String> waiting = new ArrayList<>();
        try (Connection app = Launcher.connect(source.uri("--instance", oldPrimary)); Statement ast = app.createStatement();
             Connection su = source.superuser(oldPrimary); Statement st = su.createStatement();
             Connection sc = source.superuser(newPrimary); Statement sst = sc.createStatement()) {
            assertTrue(Signals.send("STOP", backupService), "SIGSTOP to the backup service");
            try {
                String written = null;
                for (int batch = 7; batch <= 8; batch++) {
                    insertBatch(ast, batch);
                    written = value(st, "SELECT pg_current_wal_lsn()");
                    waiting.add(value(st, "SELECT pg_walfile_name(pg_switch_wal())"));
                }
                await().atMost(Duration.ofSeconds(30)).until(() -> waiting.stream().allMatch(seg -> {
                    try {
                        return "t".equals(value(st, "SELECT EXISTS (SELECT FROM pg_ls_archive_statusdir() WHERE name = '"
                                + seg + ".ready')"));
                    } catch (SQLException e) {
                        return false;
                    }
                }));
                // no acknowledged batch is lost to the asynchronous standby: the point here is the archive
                String end = written;
                await().atMost(Duration.ofSeconds(30)).until(() -> "t".equals(
                        value(sst, "SELECT pg_last_wal_replay_lsn() >= '" + end + "'::pg_lsn")));
                assertEquals(0, new ProcessBuilder("kill", "-9", Long.toString(primaryPid)).start().waitFor());
            } finally {
                assertTrue(Signals.send("CONT", backupService), "SIGCONT to the backup service");
            }
        }
        await().atMost(Duration.ofSeconds(60)).until(() -> newPrimary.equals(source.status().get("currentPrimary").asText()));
        String afterBatch9Time;
        try (Connection su = source.superuser(newPrimary); Statement st = su.createStatement()) {
            await().atMost(Duration.ofSeconds(30)).until(() -> "f".equals(value(st, "SELECT pg_is_in_recovery()")));
            try (Connection app = Launcher.connect(source.uri("--instance", newPrimary)); Statement ast = app.createStatement()) {
                insertBatch(ast, 9);
                afterBatch9Time = value(ast, "SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')");
                insertBatch(ast, 10);
            }
            String last = value(st, "SELECT pg_walfile_name(pg_switch_wal())");
            await().atMost(Duration.ofSeconds(60)).until(() ->
                    last.compareTo(value(st, "SELECT coalesce(last_archived_wal, '') FROM pg_stat_archiver")) <= 0);
        }
        // the old primary never pushed them: its standby did
        Set<String> archived = new TreeSet<>();
        try (var files = Files.walk(repository.resolve(SOURCE).resolve("wal"))) {
            files.map(f -> f.getFileName().toString()).filter(f -> f.matches("[0-9A-F]{24}\\.zst"))
                    .forEach(f -> archived.add(f.substring(0, 24)));
        }
        assertTrue(archived.containsAll(waiting), "segments " + waiting + " missing from the archive " + archived);
        restoreAndCheck("time: \"" + afterBatch9Time + "\"", 1, 9);
    }

    private void restoreAndCheck(String target, int instances, int lastBatch) throws Exception {
        try (Launcher dst = new Launcher()) {
            checkRestored(dst, restoreManifest(dst, target, instances), instances, lastBatch, target, sourceAppUri);
        }
    }

    /**
     * Brings up the restore {@code manifest} and checks it: the progress shown, Ready with every
     * instance healthy, exactly batches 1 to {@code lastBatch}, a write taken, and the source's
     * password ({@code sourceAppUri}) refused, as the restored catalog's passwords were replaced.
     */
    static Launcher.Result checkRestored(Launcher dst, Path manifest, int instances, int lastBatch, String target,
                                         String sourceAppUri) throws Exception {
        Launcher.Result up = dst.run("up", "-f", manifest.toString()).ok();
        // the restore's progress is shown (which steps depends on how fast they go by)
        assertTrue(up.stderr().contains("Restoring: "), up.stderr());
        JsonNode status = dst.status();
        assertEquals("Ready", status.get("phase").asText(), status.toString());
        assertEquals(instances, status.get("instances").size(), status.toString());
        for (JsonNode i : status.get("instances")) {
            assertTrue(i.get("healthy").asBoolean(), status.toString());
        }
        try (Connection c = Launcher.connect(dst.uri()); Statement st = c.createStatement()) {
            assertEquals(expected(lastBatch), rows(st), "rows after restoring to " + target);
            st.execute("INSERT INTO t VALUES (100, 1)");
            assertTrue(rows(st).contains("100/1"));
        }
        String sourceCredentials = sourceAppUri.substring(0, sourceAppUri.indexOf('@'));
        String withSourcePassword = dst.uri().replaceFirst("^[^@]*", sourceCredentials);
        assertThrows(SQLException.class, () -> Launcher.connect(withSourcePassword).close());
        return up;
    }

    private Path restoreManifest(Launcher dst, String target, int instances) throws Exception {
        StringBuilder m = new StringBuilder("apiVersion: pgha.io/v1\nkind: PostgresCluster\nmetadata:\n  name: dst\nspec:\n")
                .append("  instances: ").append(instances).append('\n')
                .append("  bootstrap:\n    recovery:\n      sourceCluster: ").append(SOURCE).append('\n')
                .append("      repository:\n        filesystem:\n          path: ").append(repository).append('\n');
        if (target != null) {
            m.append("      target:\n        ").append(target).append('\n');
        }
        Path file = dst.home.resolve("restore.yaml");
        Files.writeString(file, m.toString());
        return file;
    }

    static void insertBatch(Statement st, int batch) throws SQLException {
        st.execute("INSERT INTO t SELECT " + batch + ", i FROM generate_series(1, " + ROWS_PER_BATCH + ") i");
    }

    static Set<String> expected(int lastBatch) {
        Set<String> rows = new TreeSet<>();
        for (int b = 1; b <= lastBatch; b++) {
            for (int i = 1; i <= ROWS_PER_BATCH; i++) {
                rows.add(b + "/" + i);
            }
        }
        return rows;
    }

    static Set<String> rows(Statement st) throws SQLException {
        Set<String> rows = new TreeSet<>();
        try (ResultSet rs = st.executeQuery("SELECT batch, i FROM t")) {
            while (rs.next()) {
                rows.add(rs.getInt(1) + "/" + rs.getInt(2));
            }
        }
        return rows;
    }

    static String value(Statement st, String sql) throws SQLException {
        try (ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getString(1);
        }
    }
}
