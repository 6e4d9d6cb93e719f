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
import org.junit.jupiter.api.parallel.Isolated;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentLinkedQueue;

import static io.pgha.e2e.ClusterE2ETest.value;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The operator's commands on one real local cluster with a synchronous quorum: the columns of
 * {@code pgha status}, {@code pgha history}, {@code pgha logs} with and without {@code -f},
 * {@code pgha uri --jdbc}, and settings that need a restart reaching every instance through a
 * rolling restart under a writer that loses no acknowledged commit: a raised shared_buffers
 * restarts the standbys, switches over and restarts the former primary; {@code pgha restart
 * INSTANCE} restarts just that one; a lowered max_connections restarts the primary first, in
 * place, under a planned-maintenance hold the monitor honours (no failover however long its stop
 * takes on a loaded machine, within the hold), then the standbys.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Isolated
class OperatorCommandsE2ETest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String EXAMPLE = "../deploy/examples/sync-quorum.yaml";

    private Launcher pgha;
    private AcknowledgedWriter writer;

    @BeforeAll
    void up() throws Exception {
        pgha = new Launcher();
        pgha.run("up", "-f", EXAMPLE).ok();
        writer = AcknowledgedWriter.start(pgha);
    }

    @AfterAll
    void down() throws Exception {
        if (writer != null) {
            writer.close();
        }
        pgha.close();
    }

    @Test
    @Order(1)
    void statusHistoryLogsAndJdbcUri() throws Exception {
        Launcher.Result history = pgha.run("history").ok();
        assertEquals("no failover or switchover yet", history.stdout().strip());

        // the monitor reports each standby's sync state once it has looked, and its lag in seconds
        // once the standby replayed a transaction since it started (the writer's, within a round)
        String[] seen = new String[1];
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            String status = pgha.run("status").ok().stdout();
            seen[0] = status;
            Map<String, List<String>> rows = rows(status);
            assertEquals(List.of("pg-1", "primary"), rows.get("pg-1").subList(0, 2), status);
            assertEquals("1", rows.get("pg-1").get(5), "timeline column: " + status);
            for (String standby : List.of("pg-2", "pg-3")) {
                List<String> row = rows.get(standby);
                assertEquals("1", row.get(5), status);
                assertEquals(List.of("streaming", "from", "pg-1", "(quorum)"), row.subList(6, 10), status);
                assertTrue(row.get(10).matches("\\d+") && row.get(11).equals("B"), "lag in bytes: " + status);
                assertTrue(row.get(12).matches("\\d+\\.\\d"), "lag in seconds: " + status);
            }
        });
        String status = seen[0];
        assertTrue(status.matches("(?s).*\nmonitor leader: \\S+ \\(term \\d+\\)\n.*"), status);
        assertTrue(status.contains("\nlast failover or switchover: none\n"), status);
        assertTrue(!status.contains("restart pending") && !status.contains("fenced"), status);

        Launcher.Result log = pgha.run("logs", "pg-1", "-n", "5").ok();
        assertEquals(5, log.stdout().lines().count(), log.stdout());
        Launcher.Result all = pgha.run("logs").ok();
        for (String name : List.of("provisioner", "monitor", "router", "backup", "pg-1", "pg-2", "pg-3")) {
            assertTrue(all.stdout().contains("/logs/" + name + ".log <=="), "pgha logs shows every log: " + name);
        }
        Launcher.Result missing = pgha.run("logs", "pg-9");
        assertEquals(1, missing.exitCode());
        assertTrue(missing.stderr().startsWith("pgha: logs: no log named 'pg-9'") && missing.stderr().strip().lines().count() == 1,
                missing.stderr());
        followsTheLog();

        String jdbc = pgha.uri("--jdbc");
        assertTrue(jdbc.startsWith("jdbc:postgresql://127.0.0.1:" + pgha.portBase + "/app?user=app&password="), jdbc);
        try (Connection c = DriverManager.getConnection(jdbc); Statement s = c.createStatement()) {
            assertEquals("app", value(s, "SELECT current_user"));
        }
        try (Connection c = DriverManager.getConnection(pgha.uri("--jdbc", "--superuser", "--instance", "pg-2"));
             Statement s = c.createStatement()) {
            assertEquals("t", value(s, "SELECT pg_is_in_recovery() AND current_setting('is_superuser') = 'on'"));
        }
    }

    /** pgha logs -f keeps printing what the server logs after it started. */
    private void followsTheLog() throws Exception {
        ProcessBuilder pb = new ProcessBuilder(Launcher.SCRIPT.toString(), "logs", "pg-2", "-n", "0", "-f")
                .redirectError(ProcessBuilder.Redirect.DISCARD);
        pb.environment().put("PGHA_HOME", pgha.home.toString());
        pb.environment().put("PGHA_PORT_BASE", Integer.toString(pgha.portBase));
        Process follow = pb.start();
        try {
            ConcurrentLinkedQueue<String> seen = new ConcurrentLinkedQueue<>();
            Thread reader = new Thread(() -> {
                try (BufferedReader r = new BufferedReader(new InputStreamReader(follow.getInputStream(), StandardCharsets.UTF_8))) {
                    String line;
                    while ((line = r.readLine()) != null) {
                        seen.add(line);
                    }
                } catch (java.io.IOException e) {
                    // the process was ended
                }
            });
            reader.start();
            String marker = "pgha-logs-follow-" + System.nanoTime();
            try (Connection c = pgha.superuser("pg-2"); Statement s = c.createStatement()) {
                await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(500)).until(() -> {
                    // logged again until seen: tail -F may still be opening the file when the first one is written
                    s.execute("DO $$ BEGIN RAISE LOG '" + marker + "'; END $$");
                    return seen.stream().anyMatch(l -> l.contains(marker));
                });
            }
            assertTrue(follow.isAlive(), "pgha logs -f keeps following");
        } finally {
            follow.destroy();
            follow.waitFor();
        }
    }

    @Test
    @Order(2)
    void aRaisedSharedBuffersRestartsTheStandbysThenSwitchesOverAndRestartsTheFormerPrimary() throws Exception {
        String primary = pgha.status().get("currentPrimary").asText();
        Map<String, Instant> before = startTimes();
        Path manifest = manifest(Files.readString(Path.of(EXAMPLE)).replace("shared_buffers: 128MB", "shared_buffers: 160MB"));
        pgha.run("apply", "-f", manifest.toString(), "--no-wait").ok();
        // while it rolls, pgha status says which instances still owe a restart
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200))
                .until(() -> pgha.run("status").ok().stdout().contains("restart pending (shared_buffers)"));
        // a second apply of the same manifest waits until the cluster is Ready: rolled out
        pgha.run("apply", "-f", manifest.toString()).ok();

        String status = pgha.run("status").ok().stdout();
        assertTrue(!status.contains("restart pending"), status);
        String newPrimary = pgha.status().get("currentPrimary").asText();
        assertNotEquals(primary, newPrimary, "the primary was switched over, not restarted in place");
        Map<String, Instant> after = startTimes();
        for (String instance : after.keySet()) {
            assertTrue(after.get(instance).isAfter(before.get(instance)), instance + " restarted");
            try (Connection c = pgha.superuser(instance); Statement s = c.createStatement()) {
                assertEquals("160MB", value(s, "SHOW shared_buffers"), instance);
            }
        }
        JsonNode switchover = onlyPromotion();
        assertEquals("switchover", switchover.get("kind").asText());
        assertEquals(primary, switchover.get("from").asText());
        assertEquals(newPrimary, switchover.get("to").asText());
        assertEquals(0, switchover.get("lostBytes").asLong());
        Instant switchedAt = Instant.parse(switchover.get("finishedAt").asText());
        // every standby restarted before the switchover, the former primary only after it, as a standby
        after.forEach((instance, started) -> {
            if (instance.equals(primary)) {
                assertTrue(started.isAfter(switchedAt), instance + " restarted after the switchover: " + after + " " + switchedAt);
            } else {
                assertTrue(started.isBefore(switchedAt), instance + " restarted before the switchover: " + after + " " + switchedAt);
            }
        });
        List<String> history = pgha.run("history").ok().stdout().lines().toList();
        assertEquals(2, history.size(), String.join("\n", history));
        assertEquals(List.of("switchover", primary, newPrimary), List.of(history.get(1).split(" +")).subList(1, 4), history.get(1));
        assertTrue(history.get(1).contains(" 0 B "), history.get(1));
        assertNoAcknowledgedCommitLost(2);
    }

    @Test
    @Order(3)
    void restartOfOneInstanceRestartsJustThatOne() throws Exception {
        String primary = pgha.status().get("currentPrimary").asText();
        String standby = startTimes().keySet().stream().filter(n -> !n.equals(primary)).findFirst().orElseThrow();
        Map<String, Instant> before = startTimes();
        Launcher.Result r = pgha.run("restart", standby).ok();
        assertTrue(r.stderr().contains("restart of " + standby + " requested"), r.stderr());
        Map<String, Instant> after = startTimes();
        after.forEach((instance, started) -> assertEquals(!instance.equals(standby), started.equals(before.get(instance)),
                instance + ": " + before + " -> " + after));

        Launcher.Result unknown = pgha.run("restart", "pg-9");
        assertEquals(1, unknown.exitCode());
        assertTrue(unknown.stderr().startsWith("pgha: no instance named pg-9"), unknown.stderr());
        assertNoAcknowledgedCommitLost(3);
    }

    @Test
    @Order(4)
    void aLoweredMaxConnectionsRestartsThePrimaryFirstInPlaceWithoutAFailover() throws Exception {
        String primary = pgha.status().get("currentPrimary").asText();
        int promotions = stored().at("/status/topology/history").size();
        Map<String, Instant> before = startTimes();
        String current = Files.readString(Path.of(EXAMPLE)).replace("shared_buffers: 128MB", "shared_buffers: 160MB");
        String lowered = current.replace("max_connections: \"200\"", "max_connections: \"150\"");
        assertNotEquals(current, lowered, "the example sets max_connections: \"200\"");
        Path manifest = manifest(lowered);
        pgha.run("apply", "-f", manifest.toString(), "--no-wait").ok();
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200))
                .until(() -> pgha.run("status").ok().stdout().contains("restart pending (max_connections)"));
        pgha.run("apply", "-f", manifest.toString()).ok();

        assertEquals(primary, pgha.status().get("currentPrimary").asText(), "the primary restarted in place");
        assertEquals(promotions, stored().at("/status/topology/history").size(), "no failover and no switchover");
        Map<String, Instant> after = startTimes();
        for (String instance : after.keySet()) {
            assertTrue(after.get(instance).isAfter(before.get(instance)), instance + " restarted");
            if (!instance.equals(primary)) {
                assertTrue(after.get(instance).isAfter(after.get(primary)), "the primary restarted first: " + after);
            }
            try (Connection c = pgha.superuser(instance); Statement s = c.createStatement()) {
                assertEquals("150", value(s, "SHOW max_connections"), instance);
            }
        }
        // the provisioner held failover back while the primary restarted, and cut the hold short once it was back
        assertTrue(Files.readString(pgha.home.resolve("logs/provisioner.log"))
                .contains("holding failover of " + primary + " back until"), "the hold was recorded");
        Instant held = Instant.parse(provisioned(primary).path("maintenanceUntil").asText());
        assertTrue(held.isBefore(Instant.now().plusSeconds(10)), "the 90 s hold was cut short after the restart: " + held);
        assertNoAcknowledgedCommitLost(4);
    }

    /** When each instance's postmaster started. */
    private Map<String, Instant> startTimes() throws SQLException {
        Map<String, Instant> started = new TreeMap<>();
        for (JsonNode i : pgha.status().get("instances")) {
            String name = i.get("name").asText();
            try (Connection c = pgha.superuser(name); Statement s = c.createStatement();
                 ResultSet rs = s.executeQuery("SELECT pg_postmaster_start_time()")) {
                rs.next();
                started.put(name, rs.getTimestamp(1).toInstant());
            }
        }
        return started;
    }

    private Path manifest(String text) throws Exception {
        Path file = Files.createTempFile(pgha.home, "cluster", ".yaml");
        Files.writeString(file, text);
        return file;
    }

    private JsonNode onlyPromotion() throws Exception {
        JsonNode history = stored().at("/status/topology/history");
        assertEquals(1, history.size(), history.toString());
        return history.get(0);
    }

    private JsonNode provisioned(String instance) throws Exception {
        for (JsonNode i : stored().at("/status/provisioning/instances")) {
            if (i.get("name").asText().equals(instance)) {
                return i;
            }
        }
        throw new AssertionError("no provisioned instance " + instance);
    }

    private JsonNode stored() throws Exception {
        return JSON.readTree(Files.readString(pgha.home.resolve("store/postgresclusters/default/pg.json")));
    }

    /** The rows of pgha status's instance table by name, split on blanks. */
    private static Map<String, List<String>> rows(String status) {
        Map<String, List<String>> rows = new TreeMap<>();
        status.lines().filter(l -> l.startsWith("pg-")).forEach(l -> rows.put(l.split(" +")[0], List.of(l.split(" +"))));
        return rows;
    }

    /** Every id whose commit returned so far is on the current primary, and the writer got on after the step. */
    private void assertNoAcknowledgedCommitLost(int step) throws Exception {
        long before = writer.count();
        await().atMost(Duration.ofSeconds(30)).until(() -> writer.count() > before + 50);
        AcknowledgedWriter.Check check = writer.check();
        System.out.printf("step %d: %d acknowledged commits, %d lost%n", step, check.acknowledged(), check.lost());
        assertEquals(0, check.lost(), "acknowledged commits lost");
    }
}
