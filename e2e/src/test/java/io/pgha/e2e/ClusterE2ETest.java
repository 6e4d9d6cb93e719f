package io.pgha.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.parallel.Isolated;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The README's first command on a real machine: {@code pgha up} with the example manifest, then
 * what a user does next. One cluster, shared by the tests in order.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Isolated
class ClusterE2ETest {
    private Launcher pgha;
    private Launcher.Result up;

    @BeforeAll
    void up() throws Exception {
        pgha = new Launcher();
        long start = System.nanoTime();
        up = pgha.run("up").ok();
        System.out.printf("pgha up: Ready after %.1f s (services already built)%n", (System.nanoTime() - start) / 1e9);
    }

    @AfterAll
    void down() throws Exception {
        pgha.close();
    }

    @Test
    @Order(1)
    void upShowsProgressAndHowToConnect() {
        assertTrue(up.stderr().contains("SettingUpPrimary: creating primary pg-1 with initdb"), up.stderr());
        assertTrue(up.stderr().contains("cloning standby pg-2"), up.stderr());
        assertTrue(up.stderr().contains("cluster is Ready"), up.stderr());
        assertTrue(up.stderr().contains("uri)\""), "prints how to connect: " + up.stderr());
    }

    @Test
    @Order(2)
    void threeInstancesOnePrimaryTwoStandbysStreamingThroughTheirSlots() throws Exception {
        JsonNode status = pgha.status();
        assertEquals("pg", status.get("name").asText());
        assertEquals("Ready", status.get("phase").asText());
        assertEquals("pg-1", status.get("currentPrimary").asText());
        Map<String, String> roles = new HashMap<>();
        for (JsonNode i : status.get("instances")) {
            roles.put(i.get("name").asText(), i.get("role").asText());
            assertTrue(i.get("healthy").asBoolean());
            assertEquals(pgha.portBase + 10 + Integer.parseInt(i.get("name").asText().substring(3)), i.get("port").asInt());
            assertEquals(postmasterPid(i.get("name").asText()), i.get("pid").asLong());
        }
        assertEquals(Map.of("pg-1", "primary", "pg-2", "standby", "pg-3", "standby"), roles);

        try (Connection c = pgha.superuser("pg-1"); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT r.application_name, r.state, s.slot_name FROM pg_stat_replication r "
                     + "JOIN pg_replication_slots s ON s.active_pid = r.pid ORDER BY 1")) {
            assertTrue(rs.next());
            assertEquals(List.of("pg-2", "streaming", "pgha_pg_2"), List.of(rs.getString(1), rs.getString(2), rs.getString(3)));
            assertTrue(rs.next());
            assertEquals(List.of("pg-3", "streaming", "pgha_pg_3"), List.of(rs.getString(1), rs.getString(2), rs.getString(3)));
            assertFalse(rs.next());
        }
    }

    @Test
    @Order(3)
    void instancesAreConfiguredSafely() throws Exception {
        for (String name : List.of("pg-1", "pg-2", "pg-3")) {
            try (Connection c = pgha.superuser(name); Statement s = c.createStatement()) {
                assertEquals(name, value(s, "SHOW cluster_name"));
                assertEquals("on", value(s, "SHOW data_checksums"));
                assertEquals("always", value(s, "SHOW archive_mode"));
                assertEquals("127.0.0.1", value(s, "SHOW listen_addresses"));
                assertNotEquals("-1", value(s, "SHOW max_slot_wal_keep_size"));
                assertEquals("0", value(s, "SELECT count(*) FROM pg_hba_file_rules WHERE auth_method <> 'scram-sha-256'"));
                // the spec's parameters landed
                assertEquals("200", value(s, "SHOW max_connections"));
                // identity comes from the command line, where pg_rewind cannot carry it to another instance
                assertEquals("command line", value(s, "SELECT source FROM pg_settings WHERE name = 'cluster_name'"));
            }
        }
    }

    @Test
    @Order(3)
    void routerLookupRoleSeesVerifiersThroughItsFunctionOnly() throws Exception {
        JsonNode secret = new com.fasterxml.jackson.databind.ObjectMapper()
                .readTree(pgha.home.resolve("secrets/pg-router-auth.json").toFile());
        try (Connection c = java.sql.DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + (pgha.portBase + 11)
                + "/postgres", secret.get("username").asText(), secret.get("password").asText());
             Statement s = c.createStatement()) {
            assertTrue(value(s, "SELECT passwd FROM pgha.auth_lookup('app')").startsWith("SCRAM-SHA-256$"));
            SQLException denied = org.junit.jupiter.api.Assertions.assertThrows(SQLException.class,
                    () -> value(s, "SELECT rolpassword FROM pg_authid LIMIT 1"));
            assertEquals("42501", denied.getSQLState(), "insufficient privilege");
        }
    }

    @Test
    @Order(4)
    void rowWrittenOnThePrimaryIsReadOnBothStandbys() throws Exception {
        try (Connection c = Launcher.connect(pgha.uri("--primary")); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE e2e_rows (id int PRIMARY KEY, note text)");
            s.execute("INSERT INTO e2e_rows VALUES (1, 'written on the primary')");
        }
        for (String standby : List.of("pg-2", "pg-3")) {
            try (Connection c = Launcher.connect(pgha.uri("--instance", standby)); Statement s = c.createStatement()) {
                assertEquals("t", value(s, "SELECT pg_is_in_recovery()"));
                await().atMost(Duration.ofSeconds(10)).until(() -> "written on the primary".equals(
                        value(s, "SELECT coalesce((SELECT note FROM e2e_rows WHERE id = 1), '')")));
            }
        }
    }

    @Test
    @Order(5)
    void secondUpIsIdempotent() throws Exception {
        List<String> before = instancesAsProvisioned();
        Launcher.Result again = pgha.run("up").ok();
        assertTrue(again.stderr().contains("cluster is Ready"), again.stderr());
        assertEquals(before, instancesAsProvisioned());
    }

    @Test
    @Order(6)
    void uriIsOneLineWithAPercentEncodedPassword() {
        String uri = pgha.run("uri").ok().stdout();
        assertTrue(uri.matches("postgresql://app:[A-Za-z0-9%._~-]+@127\\.0\\.0\\.1:\\d+/app\\n"), uri);
        String superuser = pgha.run("uri", "--superuser", "--primary").ok().stdout();
        assertTrue(superuser.matches("postgresql://postgres:[A-Za-z0-9%._~-]+@127\\.0\\.0\\.1:" + (pgha.portBase + 11) + "/postgres\\n"), superuser);
        Launcher.Result psql = pgha.run("psql", "pg-2", "--", "-Atc", "SELECT pg_is_in_recovery()").ok();
        assertEquals("t", psql.stdout().strip());
    }

    @Test
    @Order(7)
    void killedStandbyIsReportedUnhealthyThenRestarted() throws Exception {
        long pid = pgha.instance("pg-3").get("pid").asLong();
        new ProcessBuilder("kill", "-9", Long.toString(pid)).start().waitFor();
        // unhealthy, and without a pid once the dead postmaster is gone, before the restart delay runs out
        await().atMost(Duration.ofSeconds(4)).pollInterval(Duration.ofMillis(100)).until(() -> {
            JsonNode i = pgha.instance("pg-3");
            return !i.get("healthy").asBoolean() && i.path("pid").isMissingNode();
        });
        await().atMost(Duration.ofSeconds(30)).until(() -> pgha.instance("pg-3").get("healthy").asBoolean());
        long restarted = pgha.instance("pg-3").get("pid").asLong();
        assertNotEquals(pid, restarted);
        assertEquals(postmasterPid("pg-3"), restarted);
        await().atMost(Duration.ofSeconds(30)).until(() -> "Ready".equals(pgha.status().get("phase").asText()));
    }

    @Test
    @Order(8)
    void invalidManifestsAreRejectedNamingTheFieldAndChangeNothing() throws Exception {
        List<String> before = instancesAsProvisioned();
        String example = Files.readString(Path.of("../deploy/examples/cluster.yaml"));
        Map<String, String> cases = Map.of(
                "spec.instances", example.replace("instances: 3", "instances: 0"),
                "spec.replication.number", example.replace("instances: 3",
                        "instances: 3\n  replication:\n    synchronous: quorum\n    number: 3"),
                "spec.router.poolSize", example.replace("poolSize: 20", "poolSize: twenty"),
                "spec.parameters.shared_bufers", example.replace("shared_buffers:", "shared_bufers:"),
                "spec.parameters.wal_level", example.replace("shared_buffers: 128MB", "wal_level: minimal"),
                "spec.bootstrap", example.replace("instances: 3", "instances: 3\n  bootstrap:\n    initdb:\n      database: other"),
                // PostgreSQL folds parameter names: this would have turned off the quorum's guarantee
                "spec.parameters.Synchronous_Commit", example.replace("instances: 3",
                        "instances: 3\n  replication:\n    synchronous: quorum\n    number: 1").replace("shared_buffers: 128MB",
                        "shared_buffers: 128MB\n    Synchronous_Commit: \"off\""),
                "spec.parameters.recovery_end_command", example.replace("shared_buffers: 128MB",
                        "shared_buffers: 128MB\n    recovery_end_command: /tmp/x"));
        for (Map.Entry<String, String> c : cases.entrySet()) {
            Path file = pgha.home.resolve("bad.yaml");
            Files.writeString(file, c.getValue());
            Launcher.Result r = pgha.run("apply", "-f", file.toString());
            assertEquals(1, r.exitCode(), c.getKey() + ": " + r.stderr());
            assertEquals(1, r.stderr().strip().lines().count(), "one line: " + r.stderr());
            assertTrue(r.stderr().contains(c.getKey()), "names " + c.getKey() + ": " + r.stderr());
        }
        assertEquals(before, instancesAsProvisioned());
        String stored = Files.readString(pgha.home.resolve("store/postgresclusters/default/pg.json"));
        assertTrue(stored.contains("\"generation\" : 1"), "the stored spec is untouched: " + stored);
    }

    /**
     * What an applied manifest could change about each instance: its name, role, port, postmaster
     * and timeline. Not the monitor's observations (sync state, lag), which move on their own.
     */
    private List<String> instancesAsProvisioned() throws Exception {
        List<String> out = new java.util.ArrayList<>();
        for (JsonNode i : pgha.status().get("instances")) {
            out.add(i.get("name").asText() + " " + i.get("role").asText() + " " + i.get("port").asInt() + " "
                    + i.path("pid").asLong() + " " + i.path("timeline").asInt());
        }
        return out;
    }

    @Test
    @Order(9)
    void scalingAddsThenRemovesStandbysWithoutTouchingThePrimary() throws Exception {
        long primaryPid = pgha.instance("pg-1").get("pid").asLong();
        try (Connection held = Launcher.connect(pgha.uri("--primary")); Statement s = held.createStatement()) {
            String backend = value(s, "SELECT pg_backend_pid()");
            pgha.run("apply", "-f", manifest(4).toString()).ok();
            JsonNode four = pgha.status();
            assertEquals(4, four.get("instances").size());
            assertEquals("standby", pgha.instance("pg-4").get("role").asText());
            assertEquals(List.of("pgha_pg_2", "pgha_pg_3", "pgha_pg_4"), activeSlots());

            pgha.run("apply", "-f", manifest(2).toString()).ok();
            JsonNode two = pgha.status();
            assertEquals(2, two.get("instances").size());
            assertEquals(List.of("pgha_pg_2"), activeSlots());
            assertEquals("0", value(s, "SELECT count(*) FROM pg_replication_slots WHERE slot_name IN ('pgha_pg_3', 'pgha_pg_4')"));
            assertFalse(Files.exists(pgha.home.resolve("instances/pg-4")));
            assertFalse(Files.exists(pgha.home.resolve("instances/pg-3")));

            // the connection held across both changes is the same backend, and the data is intact
            assertEquals(backend, value(s, "SELECT pg_backend_pid()"));
            assertEquals("written on the primary", value(s, "SELECT note FROM e2e_rows WHERE id = 1"));
        }
        assertEquals(primaryPid, pgha.instance("pg-1").get("pid").asLong());
    }

    private List<String> activeSlots() throws SQLException {
        try (Connection c = pgha.superuser("pg-1"); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT slot_name FROM pg_replication_slots WHERE active ORDER BY 1")) {
            List<String> slots = new java.util.ArrayList<>();
            while (rs.next()) {
                slots.add(rs.getString(1));
            }
            return slots;
        }
    }

    private Path manifest(int instances) throws Exception {
        String example = Files.readString(Path.of("../deploy/examples/cluster.yaml"));
        Path file = pgha.home.resolve("cluster-" + instances + ".yaml");
        Files.writeString(file, example.replace("instances: 3", "instances: " + instances));
        return file;
    }

    private long postmasterPid(String instance) throws Exception {
        return Long.parseLong(Files.readAllLines(pgha.home.resolve("instances/" + instance + "/data/postmaster.pid")).get(0).strip());
    }

    static String value(Statement s, String sql) throws SQLException {
        try (ResultSet rs = s.executeQuery(sql)) {
            return rs.next() ? rs.getString(1) : null;
        }
    }
}
