package io.pgha.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.pgha.backup.core.Compression;
import io.pgha.backup.core.RestoreLease;
import io.pgha.backup.repository.Checksums;
import io.pgha.backup.repository.ObjectFormat;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Stream;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Scheduled backups and retention through the real launcher, on one cluster: an every-minute
 * schedule takes a backup on time; retention with a 10 s window and a minimum of one removes the
 * older on-demand backup, its PostgresBackup object and the WAL only it needed; a kept backup
 * (whichever the schedule and retention left by then: every one holds the same rows) restores
 * exactly, while the restore holds a lease in the source's prefix; spec.backup.verify runs restore
 * drills on its own, recorded in status.backup and the metrics; verify (a drill on demand) passes
 * on a good backup and names a corrupt file, a file that differs from the backup's manifest, a
 * missing segment, and a segment whose records PostgreSQL cannot replay.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
// beside the other classes, as it mostly waits for cron slots (junit-platform.properties); its own tests
// still run one at a time in order: a class's mode would otherwise pass to its methods
@Execution(ExecutionMode.CONCURRENT)
class ScheduleRetentionE2ETest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String CLUSTER = "sched";
    /** The schedule is checked every 5 s and a backup first finds its source: a start this soon after the slot is on time. */
    private static final long ON_TIME_SECONDS = 20;
    /** Scheduled restore drills: one at least has run by the time the restore test is done. */
    private static final String DRILLS = "*/2 * * * *";

    private Launcher pgha;
    private Path repository;
    private String onDemand;
    private JsonNode scheduled;

    @BeforeAll
    void up() throws Exception {
        pgha = new Launcher();
        repository = pgha.home.resolve("repo");
        Path manifest = pgha.home.resolve("sched.yaml");
        Files.writeString(manifest, "apiVersion: pgha.io/v1\nkind: PostgresCluster\nmetadata:\n  name: " + CLUSTER + "\nspec:\n"
                + "  instances: 1\n  backup:\n    repository:\n      filesystem:\n        path: " + repository + "\n"
                + "    schedule: \"* * * * *\"\n    verify: \"" + DRILLS + "\"\n    retention:\n      recoveryWindow: 10s\n      minBackups: 1\n");
        pgha.run("up", "-f", manifest.toString()).ok();
    }

    @AfterAll
    void down() throws Exception {
        pgha.close();
    }

    private JsonNode backups() throws IOException {
        return JSON.readTree(pgha.run("backups", "--json").ok().stdout());
    }

    @Test
    @Execution(ExecutionMode.SAME_THREAD)
    @Order(1)
    void anEveryMinuteScheduleTakesABackupOnTime() throws Exception {
        try (Connection c = Launcher.connect(pgha.uri()); Statement st = c.createStatement()) {
            st.execute("CREATE TABLE t (batch int, i int)");
            RestoreE2ETest.insertBatch(st, 1);
            // a scheduled backup may be running right now (one per cluster at a time): ask again until it is taken
            Launcher.Result taken = await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofSeconds(2))
                    .until(() -> pgha.run("backup"), r -> r.exitCode() == 0 || !r.stderr().contains("already running"));
            List<String> out = taken.ok().stdout().strip().lines().toList();
            onDemand = out.get(out.size() - 1);
            RestoreE2ETest.insertBatch(st, 2);
        }
        JsonNode listing = backups();
        assertEquals("* * * * *", listing.get("schedule").get("schedule").asText(), listing.toString());
        Instant next = Instant.parse(listing.get("schedule").get("nextRun").asText());
        assertEquals(next.truncatedTo(ChronoUnit.MINUTES), next, "the next run is on a minute: " + listing);

        Instant onDemandStart = null;
        Instant onDemandEnd = null;
        for (JsonNode b : listing.get("backups")) {
            if (b.get("name").asText().equals(onDemand)) {
                onDemandStart = Instant.parse(b.get("startedAt").asText());
                onDemandEnd = Instant.parse(b.get("finishedAt").asText());
            }
        }
        Instant after = onDemandEnd;
        // the first scheduled backup that began after the on-demand one ended
        scheduled = await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofSeconds(2)).until(() -> {
            for (JsonNode b : backups().get("backups")) {
                if (b.get("phase").asText().equals("Completed") && Instant.parse(b.get("startedAt").asText()).isAfter(after)) {
                    return b;
                }
            }
            return null;
        }, b -> b != null);
        Instant started = Instant.parse(scheduled.get("startedAt").asText());
        Instant slot = started.truncatedTo(ChronoUnit.MINUTES);
        // A backup serves the slots before its start, so the schedule's next slot is the first after the
        // on-demand backup started. That slot may pass while the on-demand backup still runs (it then
        // serves that slot too, and the next one is taken); otherwise it is taken once the backup ends.
        Instant firstSlot = onDemandStart.truncatedTo(ChronoUnit.MINUTES).plus(Duration.ofMinutes(1));
        boolean ranOverFirstSlot = onDemandEnd.isAfter(firstSlot);
        assertTrue(slot.equals(firstSlot) || ranOverFirstSlot && slot.equals(firstSlot.plus(Duration.ofMinutes(1))),
                "the scheduled backup took the first slot after the on-demand backup " + onDemand + " (" + onDemandStart
                        + " to " + onDemandEnd + "), " + firstSlot + (ranOverFirstSlot ? " or the one after it" : "") + ": " + scheduled);
        assertTrue(Duration.between(slot, started).getSeconds() < ON_TIME_SECONDS,
                "the scheduled backup started within " + ON_TIME_SECONDS + " s of its slot " + slot + ": " + scheduled);
    }

    @Test
    @Execution(ExecutionMode.SAME_THREAD)
    @Order(2)
    void retentionRemovesTheOlderBackupAndTheWalOnlyItNeeded() throws Exception {
        Path base = repository.resolve(CLUSTER).resolve("base");
        Path wal = repository.resolve(CLUSTER).resolve("wal");
        String keptBeginWal = backupJson(base.resolve(scheduled.get("name").asText())).get("beginWal").asText();
        assertTrue(Files.exists(base.resolve(onDemand)));
        assertTrue(walBefore(wal, keptBeginWal) > 0, "the on-demand backup's WAL is in the archive at first");

        await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofSeconds(2)).untilAsserted(() -> {
            assertFalse(Files.exists(base.resolve(onDemand).resolve("backup.json")), "the expired backup is removed");
            JsonNode listing = backups();
            for (JsonNode b : listing.get("backups")) {
                assertFalse(b.get("name").asText().equals(onDemand), "its PostgresBackup object is gone too: " + listing);
            }
            assertTrue(listing.get("schedule").get("lastRetention").asText().contains("removed backups " + onDemand), listing.toString());
        });
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertEquals(0, walBefore(wal, keptBeginWal),
                "no WAL from before the kept backup's begin " + keptBeginWal + " is left"));
        assertTrue(Files.exists(base.resolve(scheduled.get("name").asText()).resolve("backup.json")), "the newer backup stays");
        assertTrue(fileCount(wal) > 0, "the kept backup's WAL stays");
    }

    @Test
    @Execution(ExecutionMode.SAME_THREAD)
    @Order(3)
    void aKeptBackupRestoresExactlyWhileItsRestoreHoldsALease() throws Exception {
        Path leases = repository.resolve(CLUSTER).resolve("leases");
        try (Launcher dst = new Launcher()) {
            Path manifest = dst.home.resolve("restore.yaml");
            Files.writeString(manifest, "apiVersion: pgha.io/v1\nkind: PostgresCluster\nmetadata:\n  name: dst\nspec:\n"
                    + "  instances: 1\n  bootstrap:\n    recovery:\n      sourceCluster: " + CLUSTER + "\n"
                    + "      repository:\n        filesystem:\n          path: " + repository + "\n"
                    + "      target:\n        immediate: true\n");
            CompletableFuture<Launcher.Result> up = CompletableFuture.supplyAsync(() -> dst.run("up", "-f", manifest.toString()));
            // the restore's services start first (slow on a loaded machine); the up command's own end bounds this too
            await().atMost(Duration.ofSeconds(240)).pollInterval(Duration.ofMillis(200))
                    .until(() -> up.isDone() || restoreLeases(leases) > 0);
            assertTrue(restoreLeases(leases) > 0, "the restore holds a lease on prefix " + CLUSTER);
            up.get().ok();
            try (Connection c = Launcher.connect(dst.uri()); Statement st = c.createStatement()) {
                assertEquals(RestoreE2ETest.expected(2), RestoreE2ETest.rows(st));
            }
        }
        assertEquals(0, restoreLeases(leases), "the lease is released when the restore ends");
    }

    @Test
    @Execution(ExecutionMode.SAME_THREAD)
    @Order(4)
    void scheduledDrillsVerifyTheNewestBackupAndRecordIt() throws Exception {
        // no verify was asked for yet: what status shows, a scheduled drill did
        JsonNode sc = await().atMost(Duration.ofSeconds(150)).pollInterval(Duration.ofSeconds(2))
                .until(() -> backups().get("schedule"), s -> !s.get("lastVerifiedAt").isNull());
        assertEquals(DRILLS, sc.get("verify").asText(), sc.toString());
        assertTrue(sc.get("lastVerifiedBackup").asText().startsWith(CLUSTER + "-"), sc.toString());
        assertTrue(sc.get("lastDrillFailure").isNull(), "no scheduled drill failed: " + sc);
        Instant nextDrill = Instant.parse(sc.get("nextDrill").asText());
        assertEquals(0, nextDrill.atZone(java.time.ZoneOffset.UTC).getMinute() % 2, "drills run on even minutes: " + sc);
        Instant verifiedAt = Instant.parse(sc.get("lastVerifiedAt").asText());

        String metrics = metrics();
        assertEquals(verifiedAt.getEpochSecond(), (long) metric(metrics, "pgha_backup_last_verified_timestamp_seconds"), metrics);
        assertEquals(0, metric(metrics, "pgha_backup_drill_failures_total"));
        String table = pgha.run("backups").ok().stdout();
        assertTrue(table.contains("Restore drills: '" + DRILLS + "' (UTC); next ")
                && table.contains("Last drill passed: " + sc.get("lastVerifiedBackup").asText()), table);
        assertEquals(0, drillCopies(), "a drill leaves no scratch copy behind");
    }

    @Test
    @Execution(ExecutionMode.SAME_THREAD)
    @Order(5)
    void verifyPassesOnAGoodBackupAndNamesWhatIsWrongWithABadOne() throws Exception {
        Instant started = Instant.now().truncatedTo(ChronoUnit.SECONDS);
        // scheduled backups go on meanwhile: a lease of this test's keeps retention from removing the backup under test
        Path lease = repository.resolve(CLUSTER).resolve("leases").resolve("verify-test-00000000.json");
        Files.createDirectories(lease.getParent());
        Files.write(lease, stored(RestoreLease.take("verify-test-00000000", "verify-test", Instant.now()).toJson()));
        try {
            // the newest backup: by now retention may have removed the one restored above
            String name = null;
            for (JsonNode b : backups().get("backups")) {
                if (b.get("phase").asText().equals("Completed")) {
                    name = b.get("name").asText();
                }
            }
            corruptAndVerify(name, started);
        } finally {
            Files.delete(lease);
        }
    }

    private void corruptAndVerify(String name, Instant started) throws Exception {
        Launcher.Result good = pgha.run("backup", "verify", name).ok();
        assertTrue(good.stdout().contains("backup " + name + " verified"), good.stdout());
        assertTrue(good.stdout().contains("file base.tar.zst: "), good.stdout());
        assertTrue(good.stdout().contains("every file of base.tar.zst matches backup_manifest"), good.stdout());
        assertTrue(good.stdout().contains("restored to a consistent state at "), good.stdout());
        assertTrue(good.stderr().contains("restoring backup " + name + " to a consistent state"), "progress: " + good.stderr());

        Path base = repository.resolve(CLUSTER).resolve("base").resolve(name);
        Path tar = base.resolve("base.tar.zst");
        byte[] original = Files.readAllBytes(tar);
        byte[] corrupt = original.clone();
        corrupt[corrupt.length / 2] ^= 0x55;
        Files.write(tar, corrupt);
        try {
            Launcher.Result bad = pgha.run("backup", "verify", name);
            assertEquals(1, bad.exitCode(), bad.stderr());
            assertTrue(bad.stderr().contains("backup verify failed: file base.tar.zst of backup " + name)
                    && bad.stderr().contains("checksum mismatch"), bad.stderr());
        } finally {
            Files.write(tar, original);
        }

        // a hole in the WAL after the backup: move a segment away (the archive is checked to its end)
        try (Connection c = Launcher.connect(pgha.uri("--superuser", "--primary")); Statement st = c.createStatement()) {
            // each switch after the first closes a segment (the commit before it wrote a record), the first may
            // find an empty one, and the backup may end in the current segment: four leave two after its end
            for (int i = 0; i < 4; i++) {
                st.execute("SELECT pg_switch_wal(), txid_current()");
            }
        }
        String endWal = backupJson(base).get("endWal").asText();
        Path wal = repository.resolve(CLUSTER).resolve("wal").resolve(endWal.substring(0, 8));
        Path hole = await().atMost(Duration.ofSeconds(60)).until(() -> {
            try (Stream<Path> files = Files.list(wal)) {
                List<Path> after = files.filter(f -> f.getFileName().toString().matches("[0-9A-F]{24}\\.zst"))
                        .filter(f -> f.getFileName().toString().substring(0, 24).compareTo(endWal) > 0).sorted().toList();
                return after.size() >= 2 ? after.get(0) : null;
            }
        }, p -> p != null);
        Path aside = pgha.home.resolve(hole.getFileName());
        Files.move(hole, aside);
        try {
            Launcher.Result gap = pgha.run("backup", "verify", name);
            assertEquals(1, gap.exitCode(), gap.stderr());
            String segment = hole.getFileName().toString().replace(".zst", "");
            assertTrue(gap.stderr().contains("WAL segment " + segment + " after backup") && gap.stderr().contains("is missing"),
                    gap.stderr());
        } finally {
            Files.move(aside, hole);
        }

        // a member of the tar differs from the manifest while the repository's checksum is intact
        byte[] tarBytes = Compression.ZSTD.decompress(payload(original));
        byte[] changed = tarBytes.clone();
        int content = memberContent(changed, "PG_VERSION");
        changed[content] = (byte) (changed[content] == '1' ? '2' : '1');
        Files.write(tar, stored(Compression.ZSTD.compress(changed)));
        try {
            Launcher.Result bad = pgha.run("backup", "verify", name);
            assertEquals(1, bad.exitCode(), bad.stderr());
            assertTrue(bad.stderr().contains("backup verify failed: file base.tar.zst of backup " + name
                    + " does not match its backup_manifest: ") && bad.stderr().contains("\"PG_VERSION\""), bad.stderr());
        } finally {
            Files.write(tar, original);
        }

        // a WAL segment of the backup's range whose pages PostgreSQL refuses, stored with a good checksum and length:
        // only restoring the backup finds it
        JsonNode info = backupJson(base);
        String beginWal = info.get("beginWal").asText();
        Path segment = repository.resolve(CLUSTER).resolve("wal").resolve(beginWal.substring(0, 8)).resolve(beginWal + ".zst");
        byte[] walStored = Files.readAllBytes(segment);
        byte[] walBytes = Compression.ZSTD.decompress(payload(walStored));
        String[] lsn = info.get("beginLsn").asText().split("/");
        long begin = (Long.parseLong(lsn[0], 16) << 32) | Long.parseLong(lsn[1], 16);
        for (int page = (int) (begin % walBytes.length) / WAL_PAGE * WAL_PAGE; page < walBytes.length; page += WAL_PAGE) {
            walBytes[page] ^= 0x55;
        }
        Files.write(segment, stored(Compression.ZSTD.compress(walBytes)));
        try {
            Launcher.Result bad = pgha.run("backup", "verify", name);
            assertEquals(1, bad.exitCode(), bad.stderr());
            assertTrue(bad.stdout().contains("every file of base.tar.zst matches backup_manifest"), bad.stdout());
            assertTrue(bad.stderr().contains("backup verify failed: restore drill of backup " + name + ": recovery failed")
                    && bad.stderr().contains("invalid magic number") && bad.stderr().contains(beginWal), bad.stderr());
        } finally {
            Files.write(segment, walStored);
        }

        JsonNode sc = backups().get("schedule");
        assertTrue(sc.get("lastDrillFailure").asText().contains(name), sc.toString());
        assertFalse(Instant.parse(sc.get("lastDrillFailureAt").asText()).isBefore(started), sc.toString());
        String failed = metrics();
        assertTrue(metric(failed, "pgha_backup_drill_failures_total") >= 4, "four drills above failed");
        // what PghaRestoreDrillFailed compares: the newest drill failed
        assertEquals(Instant.parse(sc.get("lastDrillFailureAt").asText()).getEpochSecond(),
                (long) metric(failed, "pgha_backup_last_drill_failure_timestamp_seconds"), failed);
        assertTrue(metric(failed, "pgha_backup_last_drill_failure_timestamp_seconds")
                > metric(failed, "pgha_backup_last_verified_timestamp_seconds"), failed);

        pgha.run("backup", "verify", name).ok();
        sc = backups().get("schedule");
        assertEquals(name, sc.get("lastVerifiedBackup").asText(), sc.toString());
        assertFalse(Instant.parse(sc.get("lastVerifiedAt").asText()).isBefore(started), sc.toString());
        String passed = metrics();
        assertTrue(metric(passed, "pgha_backup_last_verified_timestamp_seconds")
                >= metric(passed, "pgha_backup_last_drill_failure_timestamp_seconds"), "a drill that passes ends the alert: " + passed);
        assertEquals(0, drillCopies(), "failed drills leave no scratch copy behind either");
    }

    private static final int WAL_PAGE = 8192;

    /** A repository object's payload (after its checksum line). */
    private static byte[] payload(byte[] storedObject) {
        return java.util.Arrays.copyOfRange(storedObject, ObjectFormat.HEADER_LENGTH, storedObject.length);
    }

    /** A repository object holding {@code payload}, with its correct checksum. */
    private static byte[] stored(byte[] payload) {
        byte[] header = ObjectFormat.header(Checksums.sha256(payload));
        byte[] all = java.util.Arrays.copyOf(header, header.length + payload.length);
        System.arraycopy(payload, 0, all, header.length, payload.length);
        return all;
    }

    /** Where the content of the tar member {@code name} begins (tar: 512-byte blocks, a header block before each member). */
    private static int memberContent(byte[] tar, String name) {
        byte[] wanted = (name + "\0").getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        for (int block = 0; block + 512 <= tar.length; block += 512) {
            if (java.util.Arrays.equals(tar, block, block + wanted.length, wanted, 0, wanted.length)) {
                return block + 512;
            }
        }
        throw new AssertionError("no member " + name + " in the base tar");
    }

    private String metrics() throws Exception {
        return java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
                java.net.URI.create("http://127.0.0.1:" + (pgha.portBase + 43) + "/q/metrics")).build(),
                java.net.http.HttpResponse.BodyHandlers.ofString()).body();
    }

    /** The value of {@code name} for this test's cluster in a Prometheus exposition. */
    private static double metric(String metrics, String name) {
        return metrics.lines().filter(l -> l.startsWith(name + "{") && l.contains("pgha_cluster=\"" + CLUSTER + "\""))
                .map(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).findFirst()
                .orElseThrow(() -> new AssertionError("no " + name + " for " + CLUSTER + " in\n" + metrics));
    }

    /** Scratch copies of drills left in the state directory. */
    private long drillCopies() throws IOException {
        Path drills = pgha.home.resolve("drills");
        if (!Files.isDirectory(drills)) {
            return 0;
        }
        try (Stream<Path> dirs = Files.list(drills)) {
            return dirs.filter(Files::isDirectory).count();
        }
    }

    /** The leases the restore below (cluster dst) holds: drills hold theirs too. */
    private static long restoreLeases(Path leases) throws IOException {
        if (!Files.isDirectory(leases)) {
            return 0;
        }
        try (Stream<Path> files = Files.list(leases)) {
            return files.filter(f -> f.getFileName().toString().startsWith("dst-")).count();
        }
    }

    /** A backup's backup.json as stored: its checksum line, then the JSON. */
    private static JsonNode backupJson(Path backupDir) throws IOException {
        String stored = Files.readString(backupDir.resolve("backup.json"));
        return JSON.readTree(stored.substring(stored.indexOf('\n') + 1));
    }

    private static long walBefore(Path wal, String walFile) throws IOException {
        try (Stream<Path> files = Files.walk(wal)) {
            return files.map(f -> f.getFileName().toString()).filter(n -> n.matches("[0-9A-F]{24}(\\..*)?"))
                    .filter(n -> n.substring(8, 24).compareTo(walFile.substring(8, 24)) < 0).count();
        }
    }

    private static long fileCount(Path dir) throws IOException {
        try (Stream<Path> files = Files.walk(dir)) {
            return files.filter(Files::isRegularFile).count();
        }
    }
}
