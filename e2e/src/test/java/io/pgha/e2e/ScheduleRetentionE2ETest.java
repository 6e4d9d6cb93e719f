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
 * older on-demand backup, its PostgresBackup object and the WAL only it needed; the kept backup
 * restores exactly, while the restore holds a lease in the source's prefix.
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
            List<String> out = pgha.run("backup").ok().stdout().strip().lines().toList();
            onDemand = out.get(out.size() - 1);
            RestoreE2ETest.insertBatch(st, 2);
        }
        JsonNode listing = backups();
        assertEquals("* * * * *", listing.get("schedule").get("schedule").asText(), listing.toString());
        Instant next = Instant.parse(listing.get("schedule").get("nextRun").asText());
        assertEquals(next.truncatedTo(ChronoUnit.MINUTES), next, "the next run is on a minute: " + listing);

        scheduled = await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofSeconds(2)).until(() -> {
            for (JsonNode b : backups().get("backups")) {
                if (!b.get("name").asText().equals(onDemand) && b.get("phase").asText().equals("Completed")) {
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
        String keptBeginWal = JSON.readTree(base.resolve(scheduled.get("name").asText()).resolve("backup.json").toFile())
                .get("beginWal").asText();
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
    void theKeptBackupRestoresExactlyWhileItsRestoreHoldsALease() throws Exception {
        Path leases = repository.resolve(CLUSTER).resolve("leases");
        try (Launcher dst = new Launcher()) {
            Path manifest = dst.home.resolve("restore.yaml");
            Files.writeString(manifest, "apiVersion: pgha.io/v1\nkind: PostgresCluster\nmetadata:\n  name: dst\nspec:\n"
                    + "  instances: 1\n  bootstrap:\n    recovery:\n      sourceCluster: " + CLUSTER + "\n"
                    + "      repository:\n        filesystem:\n          path: " + repository + "\n"
                    + "      backup: " + scheduled.get("name").asText() + "\n      target:\n        immediate: true\n");
            CompletableFuture<Launcher.Result> up = CompletableFuture.supplyAsync(() -> dst.run("up", "-f", manifest.toString()));
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200))
                    .until(() -> up.isDone() || Files.isDirectory(leases) && fileCount(leases) > 0);
            assertTrue(Files.isDirectory(leases) && fileCount(leases) > 0, "the restore holds a lease on prefix " + CLUSTER);
            up.get().ok();
            try (Connection c = Launcher.connect(dst.uri()); Statement st = c.createStatement()) {
                assertEquals(RestoreE2ETest.expected(2), RestoreE2ETest.rows(st));
            }
        }
        assertEquals(0, fileCount(leases), "the lease is released when the restore ends");
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
