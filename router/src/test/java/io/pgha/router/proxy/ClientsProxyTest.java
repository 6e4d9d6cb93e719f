package io.pgha.router.proxy;

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
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** psql, pgbench, JDBC and the Vert.x client through the router in transaction pooling. */
class ClientsProxyTest {
    static RouterFixture fx;

    @BeforeAll
    static void start() throws Exception {
        fx = RouterFixture.start(RouterSettings.defaults().withPoolSize(3));
    }

    @AfterAll
    static void stop() throws Exception {
        fx.close();
    }

    private Tools.Result psql(int port, String stdin, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Tools.PSQL, "-X", "-v", "ON_ERROR_STOP=1", "-At", "-h", "127.0.0.1", "-p",
                Integer.toString(port), "-U", TestCluster.APP_USER, "-d", "postgres"));
        cmd.addAll(List.of(args));
        return Tools.run(TestCluster.APP_PASSWORD, stdin, cmd.toArray(String[]::new));
    }

    @Test
    void psqlQueriesAndCopyInBothDirections() throws Exception {
        Tools.Result r = psql(fx.port, null, "-c", "select inet_server_port()");
        assertEquals(0, r.exitCode(), r.output());
        assertEquals(Integer.toString(fx.standbyPort()), r.output().strip());

        String rows = "copy-1\ncopy-2\ncopy-3\n";
        Tools.Result in = psql(fx.port, rows, "-c", "\\copy items(note) from stdin");
        assertEquals(0, in.exitCode(), in.output());
        assertTrue(in.output().contains("COPY 3"), in.output());
        assertEquals("3", TestCluster.scalar(fx.cluster.primary, "select count(*) from items where note like 'copy-%'"));

        Tools.Result out = psql(fx.rwPort, null, "-c", "copy (select note from items where note like 'copy-%' order by note) to stdout");
        assertEquals(0, out.exitCode(), out.output());
        assertEquals(rows, out.output());

        // a big COPY OUT streams through (rows are not held whole)
        Tools.Result big = psql(fx.rwPort, null, "-c", "copy (select repeat('x', 1000) from generate_series(1, 20000)) to stdout");
        assertEquals(0, big.exitCode());
        assertEquals(20000, big.output().lines().count());
    }

    @Test
    void psqlMultiStatementAndErrorsKeepTheSessionUsable() throws Exception {
        Tools.Result r = psql(fx.port, "select 1;\nselect nosuchcolumn;\nselect 2;\n", "-v", "ON_ERROR_STOP=0");
        assertTrue(r.output().contains("1"), r.output());
        assertTrue(r.output().contains("nosuchcolumn"), r.output());
        assertTrue(r.output().strip().endsWith("2"), r.output());
    }

    static double pgbench(int port, String mode, String... extra) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Tools.PGBENCH, "-n", "-h", "127.0.0.1", "-p", Integer.toString(port), "-U",
                TestCluster.APP_USER, "-M", mode, "-c", "4", "-j", "2", "-t", "100"));
        cmd.addAll(List.of(extra));
        cmd.add("postgres");
        Tools.Result r = Tools.run(TestCluster.APP_PASSWORD, null, cmd.toArray(String[]::new));
        assertEquals(0, r.exitCode(), r.output());
        assertTrue(r.output().contains("number of transactions actually processed: 400/400"), r.output());
        assertTrue(r.output().contains("number of failed transactions: 0"), r.output());
        Matcher m = Pattern.compile("tps = ([0-9.]+)").matcher(r.output());
        assertTrue(m.find(), r.output());
        return Double.parseDouble(m.group(1));
    }

    /**
     * A startup parameter the router would not set on the connections it lends (options, a GUC it
     * does not track) is refused with its name, not dropped in silence: the client would believe,
     * say, its statement_timeout in force.
     */
    @Test
    void anUnsupportedStartupParameterIsRefusedByName() throws Exception {
        Properties timeout = new Properties();
        timeout.setProperty("options", "-c statement_timeout=1000");
        SQLException e = assertThrows(SQLException.class, () -> fx.connect(fx.port, timeout).close());
        assertTrue(e.getMessage().contains("unsupported startup parameter: options"), e.getMessage());
        assertEquals("0A000", e.getSQLState());
        // an empty options, as drivers may send, and the tracked parameters are fine
        Properties plain = new Properties();
        plain.setProperty("options", "");
        plain.setProperty("currentSchema", "public");
        try (Connection c = fx.connect(fx.port, plain); Statement st = c.createStatement(); ResultSet rs = st.executeQuery("show search_path")) {
            rs.next();
            assertEquals("public", rs.getString(1));
        }
    }

    @Test
    void pgbenchInEveryQueryMode() throws Exception {
        for (String mode : List.of("simple", "extended", "prepared")) {
            assertTrue(pgbench(fx.port, mode) > 0);
            assertTrue(pgbench(fx.port, mode, "-S") > 0);
        }
        // the tpcb-like runs wrote to the primary only
        assertEquals("0", TestCluster.scalar(fx.cluster.standby, "select count(*) from pgbench_history"));
        assertTrue(Integer.parseInt(TestCluster.scalar(fx.cluster.primary, "select count(*) from pgbench_history")) >= 1200);
    }

    @Test
    void jdbcServerSidePreparesAcrossManyClientsSharingFewServerConnections() throws Exception {
        Properties p = new Properties();
        p.setProperty("prepareThreshold", "1");
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<Future<Integer>> results = new ArrayList<>();
            for (int client = 0; client < 8; client++) {
                int id = client;
                results.add(pool.submit(() -> {
                    int done = 0;
                    try (Connection c = fx.connect(fx.port, p)) {
                        // each client prepares the same texts under its own names and a text of its own
                        try (PreparedStatement a = c.prepareStatement("select ?::int * 2");
                             PreparedStatement b = c.prepareStatement("select ?::text || '-" + id + "'");
                             PreparedStatement w = c.prepareStatement("insert into items(note) values (?)")) {
                            for (int i = 0; i < 100; i++) {
                                a.setInt(1, i);
                                try (ResultSet rs = a.executeQuery()) {
                                    rs.next();
                                    assertEquals(i * 2, rs.getInt(1));
                                }
                                b.setString(1, "v" + i);
                                try (ResultSet rs = b.executeQuery()) {
                                    rs.next();
                                    assertEquals("v" + i + "-" + id, rs.getString(1));
                                }
                                if (i % 10 == 0) {
                                    w.setString(1, "jdbc-" + id);
                                    assertEquals(1, w.executeUpdate());
                                }
                                done++;
                            }
                        }
                        c.setAutoCommit(false);
                        try (PreparedStatement x = c.prepareStatement("select count(*) from items where note = ?")) {
                            x.setString(1, "jdbc-" + id);
                            try (ResultSet rs = x.executeQuery()) {
                                rs.next();
                                assertEquals(10, rs.getInt(1));
                            }
                        }
                        c.commit();
                    }
                    return done;
                }));
            }
            for (Future<Integer> f : results) {
                assertEquals(100, f.get(120, TimeUnit.SECONDS));
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void jdbcBatchAndStatementErrorsInsideExtendedProtocol() throws Exception {
        Properties p = new Properties();
        p.setProperty("prepareThreshold", "1");
        try (Connection c = fx.connect(fx.port, p)) {
            c.setAutoCommit(false);
            try (PreparedStatement ps = c.prepareStatement("insert into items(note) values (?)")) {
                for (int i = 0; i < 50; i++) {
                    ps.setString(1, "batch");
                    ps.addBatch();
                }
                int[] counts = ps.executeBatch();
                assertEquals(50, counts.length);
            }
            c.commit();
            try (Statement s = c.createStatement()) {
                assertThrows(SQLException.class, () -> s.executeQuery("select 1/0"));
                c.rollback();
                try (ResultSet rs = s.executeQuery("select count(*) from items where note = 'batch'")) {
                    rs.next();
                    assertTrue(rs.getInt(1) >= 50);
                }
            }
            c.commit();
        }
    }

    @Test
    void cancelRequestCancelsTheRightQuery() throws Exception {
        try (Connection victim = fx.connect(); Connection bystander = fx.connect()) {
            Statement slow = victim.createStatement();
            Statement other = bystander.createStatement();
            CompletableFuture<SQLException> otherResult = CompletableFuture.supplyAsync(() -> {
                try {
                    other.executeQuery("select pg_sleep(2)").close();
                    return null;
                } catch (SQLException e) {
                    return e;
                }
            });
            CompletableFuture<SQLException> slowResult = CompletableFuture.supplyAsync(() -> {
                try {
                    slow.executeQuery("select pg_sleep(60)").close();
                    return null;
                } catch (SQLException e) {
                    return e;
                }
            });
            org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10)).until(() ->
                    "1".equals(TestCluster.scalar(fx.cluster.standby, "select count(*) from pg_stat_activity where query = 'select pg_sleep(60)'")));
            long t0 = System.nanoTime();
            slow.cancel();
            SQLException e = slowResult.get(20, TimeUnit.SECONDS);
            assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(10));
            assertEquals("57014", e == null ? null : e.getSQLState());
            assertEquals(null, otherResult.get(20, TimeUnit.SECONDS), "the other client's query was not cancelled");
        }
    }

    @Test
    void vertxClientThroughTheRouter() throws Exception {
        Vertx vertx = Vertx.vertx();
        try {
            Pool pool = PgBuilder.pool().with(new PoolOptions().setMaxSize(4))
                    .connectingTo(new PgConnectOptions().setHost("127.0.0.1").setPort(fx.port).setDatabase("postgres")
                            .setUser(TestCluster.APP_USER).setPassword(TestCluster.APP_PASSWORD).setCachePreparedStatements(true))
                    .using(vertx).build();
            List<io.vertx.core.Future<RowSet<Row>>> all = new ArrayList<>();
            for (int i = 0; i < 200; i++) {
                all.add(pool.preparedQuery("select $1::int + 1 as n, inet_server_port() as port").execute(Tuple.of(i)));
            }
            for (int i = 0; i < all.size(); i++) {
                Row row = all.get(i).toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS).iterator().next();
                assertEquals(i + 1, row.getInteger("n"));
                assertEquals(fx.standbyPort(), row.getInteger("port"));
            }
            Row written = pool.preparedQuery("insert into items(note) values ($1) returning inet_server_port()").execute(Tuple.of("vertx"))
                    .toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS).iterator().next();
            assertEquals(fx.primaryPort(), written.getInteger(0));
            Integer simple = pool.query("select 41 + 1").execute().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS)
                    .iterator().next().getInteger(0);
            assertEquals(42, simple);
            pool.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        } finally {
            vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void listenNotifyAndNoticesReachTheClient() throws Exception {
        try (Connection listener = fx.connect(); Connection notifier = fx.connect()) {
            try (Statement s = listener.createStatement()) {
                s.execute("LISTEN jobs");
            }
            try (Statement s = notifier.createStatement()) {
                s.execute("NOTIFY jobs, 'job-42'");
            }
            org.postgresql.PGConnection pg = listener.unwrap(org.postgresql.PGConnection.class);
            org.postgresql.PGNotification[] got = null;
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while ((got == null || got.length == 0) && System.nanoTime() < deadline) {
                // a round trip lets the driver read what arrived; the listener is pinned to its connection
                try (Statement s = listener.createStatement()) {
                    s.execute("select 1");
                }
                got = pg.getNotifications(500);
            }
            assertTrue(got != null && got.length == 1, "one notification");
            assertEquals("jobs", got[0].getName());
            assertEquals("job-42", got[0].getParameter());
            try (Statement s = notifier.createStatement()) {
                s.execute("DO $$ BEGIN RAISE NOTICE 'hello from the server'; END $$");
                assertTrue(s.getWarnings() != null && s.getWarnings().getMessage().contains("hello from the server"));
            }
        }
    }
}
