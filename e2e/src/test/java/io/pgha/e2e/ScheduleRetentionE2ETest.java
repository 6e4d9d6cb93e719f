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
 * schedule takes a backup on time; retention with a 30 s window and a minimum of one removes the
 * older on-demand backup, its PostgresBackup object and the WAL only it needed; a kept backup
 * (whichever the schedule and retention left by then: every one holds the same rows) restores
 * exactly, while the restore holds a lease in the source's prefix; verify passes on a good backup
 * and names a corrupt file and a missing segment.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ScheduleRetentionE2ETest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String CLUSTER = "sched";
    /** The schedule is checked every 5 s and a backup first finds its source: a start this soon after the slot is on time. */
    private static final long ON_TIME_SECONDS = 20;

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
                + "    schedule: \"* * * * *\"\n    retention:\n      recoveryWindow: 30s\n      minBackups: 1\n");
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

        Instant onDemandEnd = null;
        for (JsonNode b : listing.get("backups")) {
            if (b.get("name").asText().equals(onDemand)) {
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
        assertFalse(started.isBefore(next), "the scheduled backup ran no earlier than its slot " + next + ": " + scheduled);
        assertTrue(Duration.between(slot, started).getSeconds() < ON_TIME_SECONDS,
                "the scheduled backup started within " + ON_TIME_SECONDS + " s of its slot " + slot + ": " + scheduled);
    }

    @Test
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
                    .until(() -> up.isDone() || Files.isDirectory(leases) && fileCount(leases) > 0);
            assertTrue(Files.isDirectory(leases) && fileCount(leases) > 0, "the restore holds a lease on prefix " + CLUSTER);
            up.get().ok();
            try (Connection c = Launcher.connect(dst.uri()); Statement st = c.createStatement()) {
                assertEquals(RestoreE2ETest.expected(2), RestoreE2ETest.rows(st));
            }
        }
        assertEquals(0, fileCount(leases), "the lease is released when the restore ends");
    }

    @Test
    @Order(4)
    void verifyPassesOnAGoodBackupAndNamesACorruptFileOrAMissingSegment() throws Exception {
        // the newest backup: by now retention may have removed the one restored above
        String name = null;
        for (JsonNode b : backups().get("backups")) {
            if (b.get("phase").asText().equals("Completed")) {
                name = b.get("name").asText();
            }
        }
        Launcher.Result good = pgha.run("backup", "verify", name).ok();
        assertTrue(good.stdout().contains("backup " + name + " verified"), good.stdout());
        assertTrue(good.stdout().contains("file base.tar.zst: "), good.stdout());

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
            for (int i = 0; i < 2; i++) {
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
        pgha.run("backup", "verify", name).ok();
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
