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
import org.junit.jupiter.api.parallel.Isolated;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

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
@Isolated
class FailoverE2ETest {
    private static final int TRIALS = 5;
    private static final ObjectMapper JSON = new ObjectMapper();

    private Launcher pgha;
    private AcknowledgedWriter writer;

    @BeforeAll
    void up() throws Exception {
        pgha = new Launcher();
        pgha.run("up", "-f", "../deploy/examples/sync-quorum.yaml").ok();
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
    void sigkillOfThePrimaryLosesNoAcknowledgedCommit() throws Exception {
        List<String> report = new ArrayList<>();
        for (int trial = 1; trial <= TRIALS + 1; trial++) {
            boolean forceClone = trial == TRIALS + 1;
            JsonNode before = pgha.status();
            String oldPrimary = before.get("currentPrimary").asText();
            long pid = pgha.instance(oldPrimary).get("pid").asLong();
            await().atMost(Duration.ofSeconds(30)).until(() -> writer.lastAcknowledgedAt() != 0);
            long acksBefore = writer.count();
            if (forceClone) {
                // no pg_control, no pg_rewind: the provisioner must fall back to a fresh clone
                Files.delete(pgha.home.resolve("instances/" + oldPrimary + "/data/global/pg_control"));
            }
            long killedAt = System.nanoTime();
            assertEquals(0, new ProcessBuilder("kill", "-9", Long.toString(pid)).start().waitFor());

            await().atMost(Duration.ofSeconds(30)).until(() -> !oldPrimary.equals(pgha.status().get("currentPrimary").asText()));
            String newPrimary = pgha.status().get("currentPrimary").asText();
            await().atMost(Duration.ofSeconds(30)).until(() -> writer.lastAcknowledgedAt() > killedAt);
            double unavailable = (writer.lastAcknowledgedAt() - killedAt) / 1e9;

            // the old primary comes back as a streaming standby of the new primary
            await().atMost(Duration.ofSeconds(60)).until(() -> "Ready".equals(pgha.status().get("phase").asText())
                    && "standby".equals(pgha.instance(oldPrimary).path("role").asText()));
            // ... and the monitor no longer holds it fenced: it may be a candidate again
            await().atMost(Duration.ofSeconds(30)).until(() -> stored().at("/status/topology/fenced").isEmpty());
            String rejoinedBy = provisioned(oldPrimary).path("rejoinedBy").asText();
            assertEquals(forceClone ? "reclone" : "pg_rewind", rejoinedBy, "trial " + trial);
            try (Connection c = Launcher.connect(pgha.uri("--instance", oldPrimary)); Statement s = c.createStatement()) {
                long target = writer.newest();
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
        long acksBefore = writer.count();
        Launcher.Result r = pgha.run("switchover", "--to", to).ok();
        assertTrue(r.stderr().contains("switchover done"), r.stderr());
        assertEquals(to, pgha.status().get("currentPrimary").asText());
        await().atMost(Duration.ofSeconds(60)).until(() -> "Ready".equals(pgha.status().get("phase").asText())
                && "standby".equals(pgha.instance(from).path("role").asText()));
        try (Connection c = pgha.superuser(to); Statement s = c.createStatement()) {
            await().atMost(Duration.ofSeconds(30)).until(() -> "streaming".equals(
                    value(s, "SELECT state FROM pg_stat_replication WHERE application_name = '" + from + "'")));
        }
        await().atMost(Duration.ofSeconds(30)).until(() -> writer.count() > acksBefore + 100);
        assertNoAcknowledgedCommitLost();
    }

    /** Every id whose commit returned so far is on the current primary. */
    private void assertNoAcknowledgedCommitLost() throws Exception {
        AcknowledgedWriter.Check check = writer.check();
        System.out.printf("%d acknowledged commits, %d lost%n", check.acknowledged(), check.lost());
        assertEquals(0, check.lost(), "acknowledged commits lost");
        assertTrue(check.acknowledged() > 100, "the writer really wrote: " + check.acknowledged());
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
