package io.pgha.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.pgha.local.StateFiles;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentSkipListSet;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;

import static io.pgha.e2e.RestoreE2ETest.checkRestored;
import static io.pgha.e2e.RestoreE2ETest.insertBatch;
import static io.pgha.e2e.RestoreE2ETest.value;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Backups and restores through an S3-compatible server (s3proxy, run by the test as a process):
 * a source cluster archives and backs up into a bucket with lz4, and its backup service is killed
 * with SIGKILL while pgbench and a writer that notes each acknowledged row write; new clusters
 * restored from the bucket to a time and to the end of the archive hold exactly the batches
 * committed before the target, and the latter every acknowledged row; and a restore whose S3 server goes away while it runs fails, naming what it could not
 * read, and never becomes Ready with fewer rows.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Order(3) // first in the sequence, beside ScheduleRetentionE2ETest (junit-platform.properties)
class S3RestoreE2ETest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String SOURCE = "s3src";
    private static final String BUCKET = "pgha-archive";
    private static final String PG_BIN = "/usr/lib/postgresql/15/bin/";
    private static final String ACCESS_KEY = "pgha-e2e-access";
    private static final String SECRET_KEY = "pgha-e2e-secret";

    private Path s3dir;
    private Process s3proxy;
    private String endpoint;
    private Path credentials;
    private Launcher source;
    private Path manifest;
    private String sourceAppUri;
    private String afterBatch2Time;
    private final Set<Integer> attempted = new ConcurrentSkipListSet<>();
    private final Set<Integer> acknowledged = new ConcurrentSkipListSet<>();
    private volatile Exception writerFailure;

    @BeforeAll
    void sourceBackingUpIntoS3() throws Exception {
        startS3proxy();
        source = new Launcher();
        credentials = source.home.resolve("s3.credentials");
        Files.writeString(credentials, "[default]\naws_access_key_id = " + ACCESS_KEY + "\naws_secret_access_key = " + SECRET_KEY + "\n");
        manifest = source.home.resolve("src.yaml");
        Files.writeString(manifest, "apiVersion: pgha.io/v1\nkind: PostgresCluster\nmetadata:\n  name: " + SOURCE
                + "\nspec:\n  instances: 1\n  backup:\n    compression: lz4\n    repository:\n" + s3Repository("      "));
        source.run("up", "-f", manifest.toString()).ok();
        sourceAppUri = source.uri();
        try (Connection app = Launcher.connect(sourceAppUri); Statement st = app.createStatement();
             Connection su = Launcher.connect(source.uri("--superuser", "--primary")); Statement sus = su.createStatement()) {
            st.execute("CREATE TABLE t (batch int, i int)");
            insertBatch(st, 1);
            source.run("backup").ok();
            insertBatch(st, 2);
            afterBatch2Time = value(sus, "SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')");
            insertBatch(st, 3);
            writeThroughABackupServiceKill(st);
            String last = value(sus, "SELECT pg_walfile_name(pg_switch_wal())");
            await().atMost(Duration.ofSeconds(60)).until(() ->
                    last.compareTo(value(sus, "SELECT coalesce(last_archived_wal, '') FROM pg_stat_archiver")) <= 0);
        }
        // what is in the bucket: the backup's tar compressed with lz4, and the WAL
        JsonNode backups = JSON.readTree(source.run("backups", "--json").ok().stdout());
        assertEquals("Completed", backups.get("backups").get(0).get("phase").asText(), backups.toString());
        try (Stream<Path> files = Files.walk(s3dir.resolve("data").resolve(BUCKET))) {
            List<String> names = files.map(f -> f.getFileName().toString()).toList();
            assertTrue(names.contains("base.tar.lz4"), names.toString());
            assertTrue(names.stream().anyMatch(n -> n.matches("[0-9A-F]{24}\\.lz4")), names.toString());
        }
    }

    /**
     * Rows written one by one by a writer (each noted once acknowledged) while pgbench writes at
     * full speed, and the backup service killed with SIGKILL meanwhile: archiving fails until
     * {@code pgha up} starts the service again, and says so.
     */
    private void writeThroughABackupServiceKill(Statement st) throws Exception {
        st.execute("CREATE TABLE w (id int PRIMARY KEY)");
        String primary = source.uri("--superuser", "--primary");
        run(PG_BIN + "pgbench", "-i", "-q", "-s", "1", primary);
        Process bench = new ProcessBuilder(PG_BIN + "pgbench", "-n", "-c", "2", "-T", "300", primary)
                .redirectErrorStream(true).redirectOutput(source.home.resolve("pgbench.log").toFile()).start();
        AtomicBoolean stop = new AtomicBoolean();
        Thread writer = new Thread(() -> {
            try (Connection c = Launcher.connect(source.uri("--primary")); Statement w = c.createStatement()) {
                for (int id = 1; !stop.get(); id++) {
                    attempted.add(id);
                    w.execute("INSERT INTO w VALUES (" + id + ")");
                    acknowledged.add(id);
                }
            } catch (Exception e) {
                writerFailure = e;
            }
        }, "acknowledged-writer");
        writer.start();
        try (Connection su = Launcher.connect(primary); Statement sus = su.createStatement()) {
            await().atMost(Duration.ofSeconds(30)).until(() -> acknowledged.size() > 20);
            long pid = Long.parseLong(Files.readString(source.home.resolve("run/backup.pid")).strip());
            long failedBefore = Long.parseLong(value(sus, "SELECT failed_count FROM pg_stat_archiver"));
            new ProcessBuilder("kill", "-9", Long.toString(pid)).start().waitFor();
            await().atMost(Duration.ofSeconds(10)).until(() -> ProcessHandle.of(pid).map(h -> !h.isAlive()).orElse(true));
            // segments fill and wait: their pushes fail while the service is gone
            await().atMost(Duration.ofSeconds(120)).until(() ->
                    Long.parseLong(value(sus, "SELECT failed_count FROM pg_stat_archiver")) > failedBefore);
            Launcher.Result up = source.run("up", "-f", manifest.toString()).ok();
            assertTrue(up.stderr().contains("the backup service had stopped (PID " + pid + " is gone): starting it again"), up.stderr());
            int ackedAtRestart = acknowledged.size();
            await().atMost(Duration.ofSeconds(30)).until(() -> acknowledged.size() > ackedAtRestart + 20);
        } finally {
            stop.set(true);
            writer.join(30_000);
            bench.destroy();
            bench.waitFor(30, TimeUnit.SECONDS);
        }
        assertEquals(null, writerFailure, "the writer's inserts failed");
    }

    private static void run(String... command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(120, TimeUnit.SECONDS) && p.exitValue() == 0, String.join(" ", command) + ": " + out);
    }

    @AfterAll
    void stop() throws Exception {
        if (source != null) {
            source.close();
        }
        if (s3proxy != null) {
            s3proxy.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
        if (s3dir != null) {
            // the bucket (about 11 MB) goes with the run; s3proxy's log is kept with the clusters' logs
            Path log = s3dir.resolve("s3proxy.log");
            if (Files.exists(log)) {
                Path keep = Files.createDirectories(Path.of("target", "e2e-logs", s3dir.getFileName().toString()));
                Files.copy(log, keep.resolve("s3proxy.log"), StandardCopyOption.REPLACE_EXISTING);
            }
            StateFiles.deleteTree(s3dir);
        }
    }

    @Test
    @Order(1)
    void toATimeFromS3() throws Exception {
        try (Launcher dst = new Launcher()) {
            checkRestored(dst, restoreManifest(dst, "time: \"" + afterBatch2Time + "\""), 1, 2, "time", sourceAppUri);
        }
    }

    @Test
    @Order(2)
    void toTheEndOfTheArchiveFromS3() throws Exception {
        try (Launcher dst = new Launcher()) {
            checkRestored(dst, restoreManifest(dst, null), 1, 3, "the end of the archive", sourceAppUri);
            // every row acknowledged before the last segment switch, across the backup service's SIGKILL
            Set<Integer> restored = new TreeSet<>();
            try (Connection c = Launcher.connect(dst.uri()); Statement st = c.createStatement();
                 ResultSet rs = st.executeQuery("SELECT id FROM w")) {
                while (rs.next()) {
                    restored.add(rs.getInt(1));
                }
            }
            Set<Integer> lost = new TreeSet<>(acknowledged);
            lost.removeAll(restored);
            assertEquals(Set.of(), lost, "acknowledged rows missing from the restore (" + acknowledged.size() + " acknowledged)");
            Set<Integer> invented = new TreeSet<>(restored);
            invented.removeAll(attempted);
            assertEquals(Set.of(), invented, "rows never written");
            RestoreE2ETest.assertArchivesItsNewTimeline(dst);
        }
    }

    @Test
    @Order(3)
    void anS3ServerGoneDuringTheRestoreFailsItWithoutPromoting() throws Exception {
        try (Launcher dst = new Launcher()) {
            Path manifest = restoreManifest(dst, null);
            CompletableFuture<Launcher.Result> up = CompletableFuture.supplyAsync(() -> dst.run("up", "-f", manifest.toString()));
            // the restore is planned (its backup chosen from the bucket): from now on the repository is gone
            Path log = dst.home.resolve("logs/backup.log");
            await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(50)).until(() ->
                    Files.exists(log) && Files.readString(log).contains("restore of dst from " + SOURCE + ": backup"));
            s3proxy.destroyForcibly().waitFor(10, TimeUnit.SECONDS);

            Launcher.Result r = up.get(5, TimeUnit.MINUTES);
            assertNotEquals(0, r.exitCode(), r.stderr());
            assertTrue(r.stderr().contains("the cluster failed:"), r.stderr());
            // what could not be read, and from where
            assertTrue(r.stderr().contains("S3 bucket " + BUCKET) || r.stderr().matches("(?s).*[0-9A-F]{24}.*"), r.stderr());
            JsonNode status = dst.status();
            assertNotEquals("Ready", status.get("phase").asText(), status.toString());
            for (JsonNode i : status.get("instances")) {
                assertNotEquals("primary", i.path("role").asText(), "never promoted: " + status);
            }
        }
    }

    private String s3Repository(String indent) {
        return indent + "s3:\n" + indent + "  bucket: " + BUCKET + "\n" + indent + "  endpoint: " + endpoint + "\n"
                + indent + "  credentialsSecret: " + credentials + "\n";
    }

    private Path restoreManifest(Launcher dst, String target) throws IOException {
        StringBuilder m = new StringBuilder("apiVersion: pgha.io/v1\nkind: PostgresCluster\nmetadata:\n  name: dst\nspec:\n")
                .append("  instances: 1\n  bootstrap:\n    recovery:\n      sourceCluster: ").append(SOURCE).append('\n')
                .append("      repository:\n").append(s3Repository("        "));
        if (target != null) {
            m.append("      target:\n        ").append(target).append('\n');
        }
        Path file = dst.home.resolve("restore.yaml");
        Files.writeString(file, m.toString());
        return file;
    }

    /** s3proxy with its filesystem backend; the bucket is a directory of it. */
    private void startS3proxy() throws Exception {
        String jar = System.getProperty("pgha.test.s3proxy-jar");
        assertTrue(jar != null && Files.isRegularFile(Path.of(jar)), "pgha.test.s3proxy-jar names the s3proxy jar: " + jar);
        s3dir = Files.createTempDirectory(Path.of("/tmp"), "pgha-e2e-s3");
        Files.createDirectories(s3dir.resolve("data").resolve(BUCKET));
        int port = TestPorts.range(1);
        endpoint = "http://127.0.0.1:" + port;
        Path properties = s3dir.resolve("s3proxy.properties");
        Files.write(properties, List.of("s3proxy.endpoint=" + endpoint, "s3proxy.authorization=aws-v2-or-v4",
                "s3proxy.identity=" + ACCESS_KEY, "s3proxy.credential=" + SECRET_KEY, "jclouds.provider=filesystem-nio2",
                "jclouds.identity=" + ACCESS_KEY, "jclouds.credential=" + SECRET_KEY,
                "jclouds.filesystem.basedir=" + s3dir.resolve("data")));
        s3proxy = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx256m", "-jar", jar,
                "--properties", properties.toString()).redirectErrorStream(true)
                .redirectOutput(s3dir.resolve("s3proxy.log").toFile()).start();
        await("s3proxy listening on " + endpoint).atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(200)).until(() -> {
            assertTrue(s3proxy.isAlive(), "s3proxy exited: see " + s3dir.resolve("s3proxy.log"));
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 500);
                return true;
            } catch (IOException e) {
                return false;
            }
        });
    }
}
