package io.pgha.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import static io.pgha.e2e.ClusterE2ETest.value;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 5's promise on the real services: with a synchronous quorum, killing the primary with
 * SIGKILL loses no acknowledged commit; the monitor promotes a standby and the provisioner brings
 * the old primary back as a standby of the new timeline, by pg_rewind (or a fresh clone when
 * rewind cannot work).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class FailoverE2ETest {
    private static final int TRIALS = 5;
    private static final ObjectMapper JSON = new ObjectMapper();

    private Launcher pgha;
    private final ConcurrentLinkedQueue<Long> acknowledged = new ConcurrentLinkedQueue<>();
    private final AtomicBoolean writing = new AtomicBoolean(true);
    private final AtomicLong lastAck = new AtomicLong();
    private Thread writer;

    @BeforeAll
    void up() throws Exception {
        pgha = new Launcher();
        pgha.run("up", "-f", "../deploy/examples/sync-quorum.yaml").ok();
        try (Connection c = Launcher.connect(pgha.uri("--primary")); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE acked (id bigint PRIMARY KEY)");
        }
        writer = new Thread(this::write, "writer");
        writer.start();
    }

    @AfterAll
    void down() throws Exception {
        writing.set(false);
        writer.join(30_000);
        pgha.close();
    }

    /**
     * Inserts 1, 2, 3, ... through the router and records each id whose commit returned. The
     * router follows the failover; after an error the writer simply connects again.
     */
    private void write() {
        long next = 1;
        while (writing.get()) {
            try (Connection c = Launcher.connect(pgha.uri("--router"));
                 PreparedStatement insert = c.prepareStatement("INSERT INTO acked VALUES (?)")) {
                while (writing.get()) {
                    insert.setLong(1, next);
                    insert.executeUpdate();
                    acknowledged.add(next);
                    lastAck.set(System.nanoTime());
                    next++;
                }
            } catch (SQLException | AssertionError e) {
                // the transaction met the failover: its commit is not acknowledged, so it does not count
                next++;
            }
        }
    }

    @Test
    @Order(1)
    void sigkillOfThePrimaryLosesNoAcknowledgedCommit() throws Exception {
        List<String> report = new ArrayList<>();
        for (int trial = 1; trial <= TRIALS + 1; trial++) {
            boolean forceClone = trial == TRIALS + 1;
            JsonNode before = pgha.status();
            String oldPrimary = before.get("currentPrimary").asText();
            long pid = pgha.instance(oldPrimary).get("pid").asLong();
            await().atMost(Duration.ofSeconds(30)).until(() -> lastAck.get() != 0);
            long acksBefore = acknowledged.size();
            if (forceClone) {
                // no pg_control, no pg_rewind: the provisioner must fall back to a fresh clone
                Files.delete(pgha.home.resolve("instances/" + oldPrimary + "/data/global/pg_control"));
            }
            long killedAt = System.nanoTime();
            assertEquals(0, new ProcessBuilder("kill", "-9", Long.toString(pid)).start().waitFor());

            await().atMost(Duration.ofSeconds(30)).until(() -> !oldPrimary.equals(pgha.status().get("currentPrimary").asText()));
            String newPrimary = pgha.status().get("currentPrimary").asText();
            await().atMost(Duration.ofSeconds(30)).until(() -> lastAck.get() > killedAt);
            double unavailable = (lastAck.get() - killedAt) / 1e9;

            // the old primary comes back as a streaming standby of the new primary
            await().atMost(Duration.ofSeconds(60)).until(() -> "Ready".equals(pgha.status().get("phase").asText())
                    && "standby".equals(pgha.instance(oldPrimary).path("role").asText()));
            // ... and the monitor no longer holds it fenced: it may be a candidate again
            await().atMost(Duration.ofSeconds(30)).until(() -> stored().at("/status/topology/fenced").isEmpty());
            String rejoinedBy = provisioned(oldPrimary).path("rejoinedBy").asText();
            assertEquals(forceClone ? "reclone" : "pg_rewind", rejoinedBy, "trial " + trial);
            try (Connection c = Launcher.connect(pgha.uri("--instance", oldPrimary)); Statement s = c.createStatement()) {
                long target = acknowledged.stream().mapToLong(Long::longValue).max().orElseThrow();
                await().atMost(Duration.ofSeconds(30)).until(() ->
                        "t".equals(value(s, "SELECT EXISTS (SELECT 1 FROM acked WHERE id = " + target + ")")));
            }
            report.add(String.format("trial %d: %s -> %s, first acknowledged write %.2f s after the kill, %d acknowledged before, rejoined by %s",
                    trial, oldPrimary, newPrimary, unavailable, acksBefore, rejoinedBy));
        }
        report.forEach(System.out::println);
        assertNoAcknowledgedCommitLost();
    }

    @Test
    @Order(2)
    void switchoverLosesNothingAndTheFormerPrimaryStreamsFromTheNewOne() throws Exception {
        String from = pgha.status().get("currentPrimary").asText();
        String to = from.equals("pg-2") ? "pg-3" : "pg-2";
        long acksBefore = acknowledged.size();
        Launcher.Result r = pgha.run("switchover", "--to", to).ok();
        assertTrue(r.stderr().contains("switchover done"), r.stderr());
        assertEquals(to, pgha.status().get("currentPrimary").asText());
        await().atMost(Duration.ofSeconds(60)).until(() -> "Ready".equals(pgha.status().get("phase").asText())
                && "standby".equals(pgha.instance(from).path("role").asText()));
        try (Connection c = pgha.superuser(to); Statement s = c.createStatement()) {
            await().atMost(Duration.ofSeconds(30)).until(() -> "streaming".equals(
                    value(s, "SELECT state FROM pg_stat_replication WHERE application_name = '" + from + "'")));
        }
        await().atMost(Duration.ofSeconds(30)).until(() -> acknowledged.size() > acksBefore + 100);
        assertNoAcknowledgedCommitLost();
    }

    /** Every id whose commit returned so far is on the current primary. */
    private void assertNoAcknowledgedCommitLost() throws Exception {
        String primary = pgha.status().get("currentPrimary").asText();
        List<Long> acked = new ArrayList<>(acknowledged);
        try (Connection c = Launcher.connect(pgha.uri("--instance", primary));
             PreparedStatement missing = c.prepareStatement("SELECT count(*) FROM unnest(?::bigint[]) AS a(id) "
                     + "WHERE NOT EXISTS (SELECT 1 FROM acked WHERE acked.id = a.id)")) {
            Array ids = c.createArrayOf("bigint", acked.toArray());
            missing.setArray(1, ids);
            try (ResultSet rs = missing.executeQuery()) {
                rs.next();
                System.out.printf("%d acknowledged commits, %d lost%n", acked.size(), rs.getLong(1));
                assertEquals(0, rs.getLong(1), "acknowledged commits lost");
            }
        }
        assertTrue(acked.size() > 100, "the writer really wrote: " + acked.size());
    }

    private JsonNode stored() throws Exception {
        return JSON.readTree(Files.readString(pgha.home.resolve("store/postgresclusters/default/pg.json")));
    }

    private JsonNode provisioned(String instance) throws Exception {
        for (JsonNode i : stored().at("/status/provisioning/instances")) {
            if (i.get("name").asText().equals(instance)) {
                return i;
            }
        }
        throw new AssertionError("no provisioned instance " + instance);
    }
}
