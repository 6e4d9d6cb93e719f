package io.pgha.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Base backups through the real launcher: {@code pgha backup} and {@code pgha backups} on a
 * three-instance cluster, what lands in the filesystem repository (checked with PostgreSQL's own
 * pg_verifybackup), a backup that fails because its WAL never reaches the archive, and a dead
 * backup service that {@code pgha up} starts again.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Order(2) // first in the sequence, beside ScheduleRetentionE2ETest (junit-platform.properties)
class BackupE2ETest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String NAME = "pg-\\d{8}t\\d{6}z";
    private static final String LSN = "[0-9A-F]+/[0-9A-F]+";
    private static final String PG_BIN = "/usr/lib/postgresql/15/bin/";
    /** The repository object header: "pgha-object sha256=" + 64 hex digits + newline. */
    private static final int OBJECT_HEADER = 19 + 64 + 1;

    private Launcher pgha;
    private String completed;

    @BeforeAll
    void up() throws Exception {
        // a short WAL timeout, so the backup whose WAL never arrives fails within the test
        pgha = new Launcher().env("PGHA_BACKUP_WAL_TIMEOUT", "20s");
        pgha.run("up").ok();
    }

    @AfterAll
    void down() throws Exception {
        pgha.close();
    }

    private JsonNode backups() throws IOException {
        return JSON.readTree(pgha.run("backups", "--json").ok().stdout());
    }

    private String metrics() throws Exception {
        HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + (pgha.portBase + 43) + "/q/metrics")).build(), HttpResponse.BodyHandlers.ofString());
        return r.body();
    }

    private static double metric(String metrics, String name) {
        return metrics.lines().filter(l -> l.startsWith(name + "{") && l.contains("cluster=\"pg\""))
                .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).findFirst()
                .orElseThrow(() -> new AssertionError(name + " is not exposed for cluster pg"));
    }

    @Test
    @Order(1)
    void backupMetricsExistAtZeroBeforeTheFirstBackup() {
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            String m = metrics();
            assertEquals(0.0, metric(m, "pgha_backup_failures_total"));
            assertEquals(0.0, metric(m, "pgha_backup_last_success_timestamp_seconds"));
            assertEquals(0.0, metric(m, "pgha_backup_last_failure_timestamp_seconds"));
            assertEquals(0.0, metric(m, "pgha_backup_duration_seconds"));
            assertEquals(0.0, metric(m, "pgha_recovery_window_start_timestamp_seconds"));
        });
    }

    @Test
    @Order(2)
    void backupPrintsItsNameAndIsCompletedWithItsWalArchived() throws Exception {
        try (Connection c = Launcher.connect(pgha.uri("--primary")); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE before_backup AS SELECT g AS id, md5(g::text) AS note FROM generate_series(1, 50000) g");
        }
        Instant before = Instant.now();
        Launcher.Result r = pgha.run("backup").ok();
        List<String> lines = r.stdout().strip().lines().toList();
        completed = lines.get(lines.size() - 1);
        assertTrue(completed.matches(NAME), "the last line of stdout is the backup's name: " + r.stdout());
        assertTrue(r.stderr().contains("backup " + completed + " completed"), r.stderr());

        JsonNode list = backups();
        JsonNode b = list.get("backups").get(0);
        assertEquals(completed, b.get("name").asText());
        assertEquals("Completed", b.get("phase").asText());
        assertTrue(b.get("beginLsn").asText().matches(LSN), b.toString());
        assertTrue(b.get("endLsn").asText().matches(LSN), b.toString());
        assertTrue(b.get("sizeBytes").asLong() > 0, b.toString());
        assertFalse(Instant.parse(b.get("startedAt").asText()).isBefore(before.minusSeconds(1)), b.toString());
        assertFalse(Instant.parse(b.get("finishedAt").asText()).isBefore(Instant.parse(b.get("startedAt").asText())));
        // from a streaming standby, not the primary
        assertNotEquals("pg-1", b.get("instance").asText(), b.toString());

        JsonNode archive = list.get("archive");
        assertTrue(archive.get("lastArchivedWal").asText().matches("[0-9A-F]{24}"), archive.toString());
        assertFalse(archive.get("failing").asBoolean(), archive.toString());
        JsonNode window = list.get("recoverability");
        assertEquals(b.get("finishedAt").asText(), window.get("from").asText());
        assertFalse(window.get("to").isNull(), "the archive's last commit: " + window);
        // rows written, then the backup, then nothing: the window is the backup's end, never inverted
        assertFalse(Instant.parse(window.get("to").asText()).isBefore(Instant.parse(window.get("from").asText())), window.toString());

        // the cluster's status carries the same facts, written by the backup service
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            JsonNode stored = JSON.readTree(pgha.home.resolve("store/postgresclusters/default/pg.json").toFile());
            JsonNode status = stored.get("status").get("backup");
            assertEquals(b.get("finishedAt").asText(), status.get("lastSuccessfulBackup").asText());
            assertEquals(window.get("from").asText(), status.get("firstRecoverabilityPoint").asText());
        });
        String m = metrics();
        assertTrue(metric(m, "pgha_backup_last_success_timestamp_seconds") > 0);
        assertTrue(metric(m, "pgha_backup_duration_seconds") > 0);
        assertTrue(metric(m, "pgha_recovery_window_start_timestamp_seconds") > 0);
        assertEquals(0.0, metric(m, "pgha_backup_failures_total"));
    }

    /** 16 MiB segments (the default the cluster runs with): 256 per 4 GiB log. */
    private static final long SEGMENTS_PER_LOG = 256;

    private static long segmentNumber(String walFile) {
        return Long.parseLong(walFile.substring(8, 16), 16) * SEGMENTS_PER_LOG + Long.parseLong(walFile.substring(16), 16);
    }

    /** An object's payload after checking it against the SHA-256 in its header, as the repository stores it. */
    private static byte[] payload(Path object) throws Exception {
        byte[] raw = Files.readAllBytes(object);
        String header = new String(raw, 0, OBJECT_HEADER, StandardCharsets.US_ASCII);
        byte[] payload = Arrays.copyOfRange(raw, OBJECT_HEADER, raw.length);
        String sha = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(payload));
        assertEquals("pgha-object sha256=" + sha + "\n", header, object.toString());
        return payload;
    }

    private static String run(Path input, String... command) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
        if (input != null) {
            pb.redirectInput(input.toFile());
        }
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), String.join(" ", command) + ": " + out);
        return out;
    }

    @Test
    @Order(3)
    void theRepositoryHoldsAVerifiableBackupAndItsWal() throws Exception {
        Path dir = pgha.home.resolve("backups/pg/base").resolve(completed);
        Path work = Files.createTempDirectory(Path.of("/tmp"), "pgha-e2e-verify");
        try {
            for (String f : List.of("base.tar.zst", "backup_manifest.zst", "backup.json")) {
                // only backup services read the repository (archive and restore commands go through their HTTP endpoints):
                // nothing for other local users
                assertEquals("rw-r-----", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve(f))), f);
            }
            Files.write(work.resolve("base.tar.zst"), payload(dir.resolve("base.tar.zst")));
            Files.write(work.resolve("backup_manifest.zst"), payload(dir.resolve("backup_manifest.zst")));
            run(null, "zstd", "-q", "-d", work.resolve("base.tar.zst").toString(), "-o", work.resolve("base.tar").toString());
            String members = run(null, "tar", "-tf", work.resolve("base.tar").toString());
            assertTrue(members.lines().anyMatch("backup_label"::equals), "the tar holds backup_label");
            assertFalse(members.lines().anyMatch("backup_manifest"::equals), "the manifest is stored apart, not in the tar");
            assertFalse(members.lines().anyMatch(l -> l.startsWith("pg_wal/0")), "no WAL in the tar: it is in the archive");

            Path data = Files.createDirectory(work.resolve("data"));
            run(null, "tar", "-xf", work.resolve("base.tar").toString(), "-C", data.toString());
            run(null, "zstd", "-q", "-d", work.resolve("backup_manifest.zst").toString(), "-o", data.resolve("backup_manifest").toString());
            // PostgreSQL's own check of every file against the manifest (-n: the WAL is checked below, in the archive)
            String verified = run(null, PG_BIN + "pg_verifybackup", "-n", data.toString());
            assertTrue(verified.contains("successfully verified"), verified);

            JsonNode info = JSON.readTree(payload(dir.resolve("backup.json")));
            assertEquals(completed, info.get("name").asText());
            assertEquals("pg", info.get("cluster").asText());
            assertEquals("zstd", info.get("compression").asText());
            assertTrue(info.get("pgVersion").asInt() >= 150000, info.toString());
            assertTrue(info.get("dataBytes").asLong() > info.get("sizeBytes").asLong(), "stored compressed: " + info);
            String tl = String.format("%08X", info.get("timeline").asInt());
            String label = Files.readString(data.resolve("backup_label"));
            assertTrue(label.contains("START WAL LOCATION: " + info.get("beginLsn").asText() + " (file " + info.get("beginWal").asText() + ")"), label);
            // every segment from the first to the last the backup needs is in the archive
            long first = segmentNumber(info.get("beginWal").asText());
            long last = segmentNumber(info.get("endWal").asText());
            assertTrue(first <= last);
            List<String> missing = new ArrayList<>();
            for (long seg = first; seg <= last; seg++) {
                String file = tl + String.format("%08X%08X", seg / SEGMENTS_PER_LOG, seg % SEGMENTS_PER_LOG);
                if (!Files.exists(pgha.home.resolve("backups/pg/wal").resolve(tl).resolve(file + ".zst"))) {
                    missing.add(file);
                }
            }
            assertEquals(List.of(), missing);
        } finally {
            run(null, "rm", "-rf", work.toString());
        }
    }

    @Test
    @Order(4)
    void oneBackupAtATime() throws Exception {
        String second = pgha.run("backup", "--no-wait").ok().stdout().strip();
        assertTrue(second.matches(NAME), second);
        Launcher.Result third = pgha.run("backup");
        assertEquals(1, third.exitCode(), third.stderr());
        assertTrue(third.stderr().contains("already running: " + second), third.stderr());
        await().atMost(Duration.ofSeconds(120)).until(() -> {
            for (JsonNode b : backups().get("backups")) {
                if (b.get("name").asText().equals(second)) {
                    return "Completed".equals(b.get("phase").asText());
                }
            }
            return false;
        });
    }

    @Test
    @Order(5)
    void aBackupWhoseWalNeverReachesTheArchiveFailsNamingTheSegment() throws Exception {
        // every instance archives (archive_mode = always), so the WAL must be kept from all of them
        setArchiveCommandEverywhere("SET archive_command = '/bin/false'");
        try (Connection c = pgha.superuser("pg-1"); Statement s = c.createStatement()) {
            // WAL that cannot be archived: rows, and a checkpoint the standby's backup starts from
            s.execute("CREATE TABLE after_archiving_broke AS SELECT g AS id FROM generate_series(1, 1000) g");
            s.execute("CHECKPOINT");
        }
        try {
            Launcher.Result r = pgha.run("backup");
            assertEquals(1, r.exitCode(), r.stderr());
            String lastLine = r.stderr().strip().lines().reduce((a, b) -> b).orElseThrow();
            // the service's wait for the backup's WAL range in the repository names the missing
            // segment and what the primary's archiver last failed on
            assertTrue(lastLine.matches("pgha: backup " + NAME + " failed: WAL segment [0-9A-F]{24} of the backup's range"
                    + " did not reach the archive within 20 s .*fails to archive: last failure [0-9A-F]{24}.*"), lastLine);
            JsonNode list = backups();
            JsonNode failed = list.get("backups").get(list.get("backups").size() - 1);
            assertEquals("Failed", failed.get("phase").asText());
            assertTrue(failed.get("error").asText().contains("archiv"), failed.toString());
            String m = metrics();
            assertEquals(1.0, metric(m, "pgha_backup_failures_total"));
            assertTrue(metric(m, "pgha_backup_last_failure_timestamp_seconds") > 0);
        } finally {
            setArchiveCommandEverywhere("RESET archive_command");
        }
    }

    private void setArchiveCommandEverywhere(String alterSystem) throws Exception {
        for (JsonNode i : pgha.status().get("instances")) {
            try (Connection c = pgha.superuser(i.get("name").asText()); Statement s = c.createStatement()) {
                s.execute("ALTER SYSTEM " + alterSystem);
                s.execute("SELECT pg_reload_conf()");
            }
        }
    }

    @Test
    @Order(6)
    void upStartsADeadBackupServiceAgainAndSaysSo() throws Exception {
        long pid = Long.parseLong(Files.readString(pgha.home.resolve("run/backup.pid")).strip());
        new ProcessBuilder("kill", "-9", Long.toString(pid)).start().waitFor();
        await().atMost(Duration.ofSeconds(10)).until(() -> ProcessHandle.of(pid).map(h -> !h.isAlive()).orElse(true));
        Launcher.Result up = pgha.run("up").ok();
        assertTrue(up.stderr().contains("the backup service had stopped (PID " + pid + " is gone): starting it again"), up.stderr());
        long restarted = Long.parseLong(Files.readString(pgha.home.resolve("run/backup.pid")).strip());
        assertNotEquals(pid, restarted);
        // the catalog comes from the store and the repository, so nothing is forgotten
        JsonNode list = backups();
        assertEquals(completed, list.get("backups").get(0).get("name").asText());
        assertEquals("Completed", list.get("backups").get(0).get("phase").asText());
        assertFalse(list.get("recoverability").get("from").isNull());
    }
}
