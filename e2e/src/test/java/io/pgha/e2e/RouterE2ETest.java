package io.pgha.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgBuilder;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.Tuple;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.parallel.Isolated;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Collectors;

import static io.pgha.e2e.ClusterE2ETest.value;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The router in front of a real local cluster, as `pgha up` starts it. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Isolated
class RouterE2ETest {
    private Launcher pgha;

    @BeforeAll
    void up() throws Exception {
        // learn functions created during the test within a second instead of the default 30 s
        pgha = new Launcher().env("PGHA_ROUTER_FUNCTION_REFRESH", "1s");
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
    void pgbenchRunsThroughTheRouterInEveryQueryMode() throws Exception {
        String uri = pgha.uri("--router");
        pgbench(uri, "-i", "-s", "1", "-q");
        for (String mode : List.of("simple", "extended", "prepared")) {
            String out = pgbench(uri, "-M", mode, "-c", "4", "-t", "50", "-n");
            assertTrue(out.contains("number of transactions actually processed: 200/200"), mode + ": " + out);
            assertTrue(out.contains("number of failed transactions: 0"), mode + ": " + out);
        }
    }

    private static String pgbench(String uri, String... args) throws Exception {
        return Launcher.pgbench(uri, args);
    }

    private int primaryPort() {
        return pgha.instance(pgha.status().get("currentPrimary").asText()).get("port").asInt();
    }

    private Set<Integer> standbyPorts() {
        Set<Integer> ports = new TreeSet<>();
        for (JsonNode i : pgha.status().get("instances")) {
            if (!i.get("name").asText().equals(pgha.status().get("currentPrimary").asText())) {
                ports.add(i.get("port").asInt());
            }
        }
        return ports;
    }

    @Test
    @Order(6)
    void theVertxClientWorksThroughTheRouter() throws Exception {
        String uri = pgha.uri("--router");
        URI u = URI.create(uri);
        Properties credentials = Launcher.credentials(uri);
        Vertx vertx = Vertx.vertx();
        try {
            // cached prepared statements are named ones: the router re-prepares them on whichever server runs them
            Pool pool = PgBuilder.pool().with(new PoolOptions().setMaxSize(4))
                    .connectingTo(new PgConnectOptions().setHost(u.getHost()).setPort(u.getPort()).setDatabase(u.getPath().substring(1))
                            .setUser(credentials.getProperty("user")).setPassword(credentials.getProperty("password"))
                            .setCachePreparedStatements(true))
                    .using(vertx).build();
            assertTrue(standbyPorts().contains(result(pool.query("SELECT inet_server_port()").execute()).iterator().next().getInteger(0)),
                    "a simple-protocol read runs on a standby");
            result(pool.query("CREATE TABLE IF NOT EXISTS vertx_items (id serial PRIMARY KEY, note text)").execute());
            Row written = result(pool.preparedQuery("INSERT INTO vertx_items (note) VALUES ($1) RETURNING inet_server_port()")
                    .execute(Tuple.of("vertx"))).iterator().next();
            assertEquals(primaryPort(), written.getInteger(0), "a prepared write runs on the primary");
            List<Future<RowSet<Row>>> reads = new ArrayList<>();
            for (int i = 0; i < 40; i++) {
                reads.add(pool.preparedQuery("SELECT $1::int + 1").execute(Tuple.of(i)));
            }
            for (int i = 0; i < reads.size(); i++) {
                assertEquals(i + 1, result(reads.get(i)).iterator().next().getInteger(0), "pipelined prepared read " + i);
            }
            int inTransaction = result(pool.withTransaction(c -> c.query("SELECT inet_server_port()").execute()))
                    .iterator().next().getInteger(0);
            assertEquals(primaryPort(), inTransaction, "a read-write transaction runs on the primary");
            result(pool.close());
        } finally {
            vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        }
    }

    private static <T> T result(Future<T> f) throws Exception {
        return f.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }

    /** The port in the first column of the first row: where the router ran the statement. */
    private static int ranOn(Statement s, String sql) throws SQLException {
        try (ResultSet rs = s.executeQuery(sql)) {
            assertTrue(rs.next(), sql + " returned no row");
            return rs.getInt(1);
        }
    }

    /** Runs statements bracketed by {@code begin} and COMMIT; returns where the inner statement ran. */
    private static int ranInTransaction(Statement s, String begin, String... statements) throws SQLException {
        s.execute(begin);
        for (int i = 0; i < statements.length - 1; i++) {
            s.execute(statements[i]);
        }
        int port = ranOn(s, statements[statements.length - 1]);
        s.execute("COMMIT");
        return port;
    }

    @Test
    @Order(7)
    void everyStatementRunsWhereItMust() throws Exception {
        try (Connection c = router(); Statement s = c.createStatement()) {
            s.execute("CREATE SEQUENCE IF NOT EXISTS routed_ids");
            s.execute("CREATE OR REPLACE FUNCTION routed_volatile() RETURNS int LANGUAGE sql VOLATILE AS 'SELECT 1'");
            s.execute("CREATE OR REPLACE FUNCTION routed_stable() RETURNS int LANGUAGE sql STABLE AS 'SELECT 1'");
        }
        int primary = primaryPort();
        Set<Integer> standbys = standbyPorts();
        for (String mode : List.of("simple", "extended")) {
            // a separate reader that never writes: read-your-writes does not keep it on the primary
            try (Connection reader = router("preferQueryMode", mode, "prepareThreshold", "1"); Statement r = reader.createStatement();
                 Connection writer = router("preferQueryMode", mode, "prepareThreshold", "1"); Statement w = writer.createStatement()) {
                // the router learns user functions from pg_proc: wait until it knows the new volatile one
                await().atMost(Duration.ofSeconds(30)).until(() -> ranOn(r, "SELECT inet_server_port(), routed_volatile()") == primary);
                for (String read : List.of(
                        "SELECT inet_server_port()",
                        "SELECT inet_server_port(), random(), now(), clock_timestamp(), pg_is_in_recovery()",
                        "SELECT inet_server_port(), count(*) FROM routed",
                        "WITH r AS (SELECT id FROM routed) SELECT inet_server_port(), (SELECT count(*) FROM r)",
                        "SELECT inet_server_port(), routed_stable()")) {
                    assertTrue(standbys.contains(ranOn(r, read)), mode + ": on a standby: " + read);
                }
                assertTrue(standbys.contains(ranInTransaction(r, "BEGIN READ ONLY", "SELECT inet_server_port()")),
                        mode + ": a read-only transaction on a standby");
                for (String write : List.of(
                        "INSERT INTO routed VALUES (10) RETURNING inet_server_port()",
                        "UPDATE routed SET id = 10 WHERE id = 10 RETURNING inet_server_port()",
                        "WITH d AS (DELETE FROM routed WHERE id = -1 RETURNING id) SELECT inet_server_port()",
                        "WITH i AS (INSERT INTO routed VALUES (11) RETURNING id) SELECT inet_server_port() FROM i",
                        "SELECT inet_server_port() FROM routed LIMIT 1 FOR UPDATE",
                        "SELECT inet_server_port() FROM routed LIMIT 1 FOR SHARE",
                        "SELECT inet_server_port(), nextval('routed_ids')",
                        "SELECT inet_server_port(), currval('routed_ids')",
                        "SELECT inet_server_port(), txid_current()",
                        "SELECT inet_server_port(), pg_current_xact_id()",
                        "SELECT inet_server_port(), pg_current_wal_lsn()",
                        "SELECT inet_server_port(), pg_advisory_xact_lock(7)",
                        "SELECT inet_server_port(), pg_notify('routed', 'x')",
                        "SELECT inet_server_port(), set_config('application_name', 'e2e', true)",
                        "SELECT inet_server_port(), lo_unlink(lo_create(0))",
                        "SELECT inet_server_port(), routed_volatile()",
                        "/* pgha:primary */ SELECT inet_server_port()")) {
                    assertEquals(primary, ranOn(w, write), mode + ": on the primary: " + write);
                }
                assertEquals(primary, ranInTransaction(w, "BEGIN", "SELECT inet_server_port()"), mode + ": explicit transaction");
                assertEquals(primary, ranInTransaction(w, "BEGIN ISOLATION LEVEL SERIALIZABLE", "SELECT inet_server_port()"),
                        mode + ": serializable");
                assertEquals(primary, ranInTransaction(w, "BEGIN", "LOCK TABLE routed IN SHARE MODE", "SELECT inet_server_port()"),
                        mode + ": LOCK");
            }
        }
    }

    /** Applies the example manifest with extra {@code spec.router} lines; the router follows without a restart. */
    private void applyRouterSettings(String... lines) throws Exception {
        String manifest = Files.readString(Path.of("..", "deploy", "examples", "cluster.yaml"));
        assertTrue(manifest.endsWith("    poolSize: 20\n"), "the example manifest ends with its router settings");
        Path file = pgha.home.resolve("router-settings.yaml");
        Files.writeString(file, manifest + Arrays.stream(lines).map(l -> "    " + l + "\n").collect(Collectors.joining()));
        pgha.run("apply", "-f", file.toString()).ok();
    }

    private String otherStandby(String than) {
        String primary = pgha.status().get("currentPrimary").asText();
        for (JsonNode i : pgha.status().get("instances")) {
            String name = i.get("name").asText();
            if (!name.equals(primary) && !name.equals(than)) {
                return name;
            }
        }
        throw new AssertionError("no standby other than " + than);
    }

    /** How many of {@code n} autocommit reads on {@code s} ran on each port. */
    private static Map<Integer, Integer> readsByPort(Statement s, int n) throws SQLException {
        Map<Integer, Integer> ports = new TreeMap<>();
        for (int i = 0; i < n; i++) {
            ports.merge(ranOn(s, "SELECT inet_server_port()"), 1, Integer::sum);
        }
        return ports;
    }

    @Test
    @Order(8)
    void routerSettingsFromAnAppliedManifestTakeEffectWhileClientsStayConnected() throws Exception {
        try (Connection held = router(); Statement s = held.createStatement()) {
            Set<Integer> standbys = standbyPorts();
            assertTrue(standbys.contains(ranOn(s, "SELECT inet_server_port()")));
            applyRouterSettings("readPolicy: primary");
            int primary = primaryPort();
            await().atMost(Duration.ofSeconds(10)).until(() -> ranOn(s, "SELECT inet_server_port()") == primary);
            assertEquals(Map.of(primary, 50), readsByPort(s, 50), "readPolicy primary: every read on the primary");
            applyRouterSettings("readPolicy: standby");
            await().atMost(Duration.ofSeconds(10)).until(() -> standbys.contains(ranOn(s, "SELECT inet_server_port()")));
        }
    }

    @Test
    @Order(9)
    void aLaggingStandbyGetsNoReadsUntilItCatchesUp() throws Exception {
        // a 1 MiB lag limit, so that a few MiB of WAL put a held-back standby beyond it
        applyRouterSettings("maxReplicaLagBytes: 1048576");
        String primaryName = pgha.status().get("currentPrimary").asText();
        String lagging = otherStandby(primaryName);
        int laggingPort = pgha.instance(lagging).get("port").asInt();
        int currentPort = pgha.instance(otherStandby(lagging)).get("port").asInt();
        setApplyDelay(lagging, "'1h'");
        try (Connection reader = router(); Statement r = reader.createStatement()) {
            try (Connection w = Launcher.connect(pgha.uri("--rw")); Statement ws = w.createStatement()) {
                ws.execute("CREATE TABLE lag_fill (id int, pad text)");
                ws.execute("INSERT INTO lag_fill SELECT g, repeat('x', 1000) FROM generate_series(1, 4000) g");
            }
            // the router learns the lag from its own polling: 100 reads in a row on the current standby.
            // Not merely "none on the lagging one": while the current standby still replays the 4 MB it
            // lags past the limit too, and those reads go to the primary
            await().atMost(Duration.ofSeconds(10)).until(() -> readsByPort(r, 100).equals(Map.of(currentPort, 100)));
            Map<Integer, Integer> reads = readsByPort(r, 200);
            assertEquals(Map.of(currentPort, 200), reads, "every read on the standby that is current, none on " + lagging);
            setApplyDelay(lagging, null);
            await().atMost(Duration.ofSeconds(20)).until(() -> readsByPort(r, 20).containsKey(laggingPort));
        } finally {
            // a standby left an hour behind would hold up the later tests' failover
            setApplyDelay(lagging, null);
        }
        applyRouterSettings();
    }

    /** ALTER SYSTEM SET (or, with null, RESET) recovery_min_apply_delay on {@code instance}, and reload. */
    private void setApplyDelay(String instance, String delay) throws Exception {
        try (Connection su = pgha.superuser(instance); Statement s = su.createStatement()) {
            s.execute(delay == null ? "ALTER SYSTEM RESET recovery_min_apply_delay" : "ALTER SYSTEM SET recovery_min_apply_delay = " + delay);
            s.execute("SELECT pg_reload_conf()");
        }
    }

    private double routerMetric(String name, String server) throws Exception {
        HttpResponse<String> metrics = HttpClient.newHttpClient().send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + (pgha.portBase + 42) + "/q/metrics")).build(),
                HttpResponse.BodyHandlers.ofString());
        String prefix = name + "{server=\"" + server + "\"";
        return metrics.body().lines().filter(l -> l.startsWith(prefix)).findFirst()
                .map(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1)))
                .orElseThrow(() -> new AssertionError("no " + prefix + " in the router's metrics"));
    }

    @Test
    @Order(10)
    void aStoppedStandbyIsExcludedWithinTwoSecondsAndComesBack() throws Exception {
        String primaryName = pgha.status().get("currentPrimary").asText();
        String stopped = otherStandby(primaryName);
        JsonNode instance = pgha.instance(stopped);
        int port = instance.get("port").asInt();
        String server = "127.0.0.1:" + port;
        assertEquals(1.0, routerMetric("pgha_router_standby_healthy", server));
        AtomicBoolean reading = new AtomicBoolean(true);
        ConcurrentHashMap<Integer, Integer> readsOn = new ConcurrentHashMap<>();
        List<Throwable> errors = new CopyOnWriteArrayList<>();
        ExecutorService exec = Executors.newSingleThreadExecutor();
        try (Connection reader = router(); Statement r = reader.createStatement()) {
            java.util.concurrent.Future<?> loop = exec.submit(() -> {
                while (reading.get()) {
                    try {
                        readsOn.merge(ranOn(r, "SELECT inet_server_port()"), 1, Integer::sum);
                    } catch (SQLException e) {
                        errors.add(e);
                    }
                }
            });
            await().atMost(Duration.ofSeconds(10)).until(() -> readsOn.containsKey(port));
            // a fast shutdown, as an administrator or a node drain stops it
            assertEquals(0, new ProcessBuilder("kill", "-INT", instance.get("pid").asText()).start().waitFor());
            await().atMost(Duration.ofSeconds(2)).pollInterval(Duration.ofMillis(50))
                    .until(() -> routerMetric("pgha_router_standby_healthy", server) == 0.0);
            int onStoppedThen = readsOn.getOrDefault(port, 0);
            // the provisioner restarts it after its restart delay; then the router gives it reads again
            await().atMost(Duration.ofSeconds(60)).until(() -> routerMetric("pgha_router_standby_healthy", server) == 1.0);
            await().atMost(Duration.ofSeconds(10)).alias("reads on " + port + " again; reads by port " + readsOn + ", errors " + errors)
                    .until(() -> readsOn.getOrDefault(port, 0) > onStoppedThen);
            reading.set(false);
            loop.get(30, TimeUnit.SECONDS);
            assertEquals(List.of(), errors, "the reading client saw no error while its standby stopped and came back");
        } finally {
            reading.set(false);
            exec.shutdownNow();
        }
    }

    @Test
    @Order(20)
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
