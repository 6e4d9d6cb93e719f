package io.pgha.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Properties;

import static io.pgha.e2e.ClusterE2ETest.value;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The router in front of a real local cluster, as `pgha up` starts it. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class RouterE2ETest {
    private Launcher pgha;

    @BeforeAll
    void up() throws Exception {
        pgha = new Launcher();
        pgha.run("up").ok();
    }

    @AfterAll
    void down() throws Exception {
        pgha.close();
    }

    private Connection router(String... properties) throws Exception {
        String uri = pgha.uri("--router");
        Properties p = Launcher.credentials(uri);
        for (int i = 0; i < properties.length; i += 2) {
            p.setProperty(properties[i], properties[i + 1]);
        }
        return DriverManager.getConnection(Launcher.jdbcUrl(uri), p);
    }

    @Test
    @Order(1)
    void statusReportsTheRouterAndUriDefaultsToIt() {
        JsonNode router = pgha.status().get("router");
        assertEquals(pgha.portBase, router.get("port").asInt());
        assertEquals(pgha.portBase + 1, router.get("rwPort").asInt());
        assertTrue(pgha.uri().contains(":" + pgha.portBase + "/"), "uri defaults to the router: " + pgha.uri());
    }

    @Test
    @Order(2)
    void psqlWorksThroughTheRouter() {
        Launcher.Result r = pgha.run("psql", "pg-1", "--", "-Atc", "SELECT 1");
        assertEquals("1", r.ok().stdout().strip());
    }

    @Test
    @Order(3)
    void readsGoToStandbysWritesAndTransactionsToThePrimary() throws Exception {
        try (Connection c = router("prepareThreshold", "1"); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE IF NOT EXISTS routed (id int)");
            assertEquals("t", value(s, "SELECT pg_is_in_recovery()"), "a plain read runs on a standby");
            try (ResultSet rs = s.executeQuery("INSERT INTO routed VALUES (1) RETURNING pg_is_in_recovery()")) {
                rs.next();
                assertEquals("f", rs.getString(1), "a write runs on the primary");
            }
            assertEquals("f", value(s, "SELECT pg_is_in_recovery() FROM routed FOR UPDATE"), "a lock runs on the primary");
            c.setAutoCommit(false);
            assertEquals("f", value(s, "SELECT pg_is_in_recovery()"), "an explicit read-write transaction runs on the primary");
            c.commit();
            c.setAutoCommit(true);
            try (PreparedStatement ps = c.prepareStatement("SELECT count(*) FROM routed WHERE id = ?")) {
                for (int i = 0; i < 5; i++) {
                    ps.setInt(1, 1);
                    try (ResultSet rs = ps.executeQuery()) {
                        rs.next();
                        assertEquals(1, rs.getInt(1), "server-side prepared statement, run " + i);
                    }
                }
            }
        }
    }

    @Test
    @Order(4)
    void readWritePortSendsEverythingToThePrimary() throws Exception {
        String rw = pgha.uri("--rw");
        try (Connection c = Launcher.connect(rw); Statement s = c.createStatement()) {
            assertEquals("f", value(s, "SELECT pg_is_in_recovery()"));
        }
    }

    @Test
    @Order(5)
    void pgbenchPreparedRunsThroughTheRouter() throws Exception {
        String uri = pgha.uri("--router");
        Properties credentials = Launcher.credentials(uri);
        int port = java.net.URI.create(uri).getPort();
        for (List<String> cmd : List.of(
                List.of("/usr/lib/postgresql/15/bin/pgbench", "-i", "-s", "1", "-q"),
                List.of("/usr/lib/postgresql/15/bin/pgbench", "-M", "prepared", "-c", "4", "-t", "50", "-n"))) {
            List<String> full = new java.util.ArrayList<>(cmd);
            full.addAll(List.of("-h", "127.0.0.1", "-p", Integer.toString(port), "-U", credentials.getProperty("user"), "app"));
            ProcessBuilder pb = new ProcessBuilder(full).redirectErrorStream(true);
            pb.environment().put("PGPASSWORD", credentials.getProperty("password"));
            Process p = pb.start();
            String out = new String(p.getInputStream().readAllBytes());
            assertEquals(0, p.waitFor(), out);
            if (cmd.contains("-M")) {
                assertTrue(out.contains("number of failed transactions: 0"), out);
            }
        }
    }

    @Test
    @Order(6)
    void afterAFailoverTheSameClientWritesToTheNewPrimary() throws Exception {
        try (Connection c = router(); Statement s = c.createStatement()) {
            s.execute("INSERT INTO routed VALUES (2)");
            String primary = pgha.status().get("currentPrimary").asText();
            long pid = pgha.instance(primary).get("pid").asLong();
            assertEquals(0, new ProcessBuilder("kill", "-9", Long.toString(pid)).start().waitFor());
            await().atMost(Duration.ofSeconds(30)).until(() -> !primary.equals(pgha.status().get("currentPrimary").asText()));
            // the client keeps its connection; new transactions follow the new primary
            await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> {
                s.execute("INSERT INTO routed VALUES (3)");
                return true;
            });
            try (ResultSet rs = s.executeQuery("INSERT INTO routed VALUES (4) RETURNING inet_server_port()")) {
                rs.next();
                assertEquals(pgha.instance(pgha.status().get("currentPrimary").asText()).get("port").asInt(), rs.getInt(1));
            }
        }
    }
}
