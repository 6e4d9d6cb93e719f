package io.pgha.router.proxy;

import io.pgha.api.RouterAuth;
import io.pgha.local.OsUser;
import io.pgha.local.PgBinaries;
import io.pgha.local.PgCtl;
import io.pgha.local.Ports;
import io.pgha.local.testing.TestPostgres;
import io.pgha.router.auth.LookupCredentials;
import io.pgha.router.auth.PgProcCatalogSource;
import io.pgha.router.auth.QueryAuthLookup;
import io.pgha.router.topology.ServerAddress;
import io.pgha.router.topology.StaticTopologySource;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.awaitility.Awaitility.await;

/**
 * Read-your-writes on a real replicated pair: a primary and a streaming hot standby cloned from it
 * with pg_basebackup, the standby's replay delayed or not with {@code recovery_min_apply_delay}.
 */
class ReadYourWritesTest {
    /** Round trips with replay delayed (the acceptance: 10,000). */
    private static final int DELAYED_ROUND_TRIPS = Integer.getInteger("pghatest.ryw.delayed", 10000);
    private static final int SPACED_ROUND_TRIPS = Integer.getInteger("pghatest.ryw.spaced", 1000);

    private static TestPostgres primary;
    private static Path standbyRoot;
    private static int standbyPort;
    private static String standbyPassword;
    private static PgCtl standbyCtl;
    private static final AtomicLong ids = new AtomicLong();

    static {
        try {
            // register the driver with this class loader's copy (Quarkus tests load their own)
            Class.forName("org.postgresql.Driver");
        } catch (ClassNotFoundException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    @BeforeAll
    static void replicatedPair() throws Exception {
        primary = TestPostgres.start(Map.of("wal_level", "replica", "max_wal_senders", "5"));
        standbyPassword = primary.superuserPassword();
        try (Connection c = primary.connect(); Statement s = c.createStatement()) {
            s.execute("CREATE ROLE " + TestCluster.APP_USER + " LOGIN PASSWORD '" + TestCluster.APP_PASSWORD + "'");
            s.execute("CREATE ROLE " + TestCluster.AUTH_USER + " LOGIN PASSWORD '" + TestCluster.AUTH_PASSWORD + "'");
            s.execute(RouterAuth.FUNCTION_SQL);
            s.execute(RouterAuth.grantSql(TestCluster.AUTH_USER));
            s.execute("CREATE TABLE ryw (id bigint PRIMARY KEY)");
            s.execute("GRANT ALL ON ryw TO " + TestCluster.APP_USER);
        }
        OsUser user = OsUser.forPostgres();
        standbyRoot = Files.createTempDirectory(Path.of("/tmp"), "pgha-test-standby",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
        user.chown(standbyRoot);
        Path passfile = standbyRoot.resolve("pgpass");
        Files.writeString(passfile, "*:*:*:" + TestPostgres.SUPERUSER + ":" + primary.superuserPassword() + "\n");
        Files.setPosixFilePermissions(passfile, PosixFilePermissions.fromString("rw-------"));
        user.chown(passfile);
        String conninfo = "host=127.0.0.1 port=" + primary.port() + " user=" + TestPostgres.SUPERUSER + " passfile=" + passfile;
        standbyCtl = new PgCtl(PgBinaries.locate(), user, standbyRoot.resolve("commands.log"));
        Path data = standbyRoot.resolve("data");
        standbyCtl.basebackup(conninfo, data, null);
        Path signal = data.resolve("standby.signal");
        Files.writeString(signal, "");
        user.chown(signal);
        standbyPort = Ports.freePort();
        Map<String, String> settings = new LinkedHashMap<>();
        settings.put("port", Integer.toString(standbyPort));
        settings.put("listen_addresses", "127.0.0.1");
        settings.put("unix_socket_directories", standbyRoot.toString());
        settings.put("hot_standby", "on");
        settings.put("fsync", "off");
        settings.put("primary_conninfo", conninfo);
        standbyCtl.start(data, settings, standbyRoot.resolve("server.log"));
        await().atMost(Duration.ofSeconds(30)).until(() -> "true".equals(standbyScalar("SELECT pg_is_in_recovery()::text"))
                && standbyScalar("SELECT status FROM pg_stat_wal_receiver") != null);
    }

    @AfterAll
    static void stop() throws IOException {
        if (standbyCtl != null) {
            Path log = standbyRoot.resolve("server.log");
            if (Files.exists(log)) {
                System.out.println("standby log:\n" + Files.readString(log));
            }
            standbyCtl.stop(standbyRoot.resolve("data"), PgCtl.StopMode.IMMEDIATE);
            try (Stream<Path> files = Files.walk(standbyRoot)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
        if (primary != null) {
            primary.close();
        }
    }

    @Test
    void delayedReplayNeverMissesTheRowJustWritten() throws Exception {
        applyDelay("500ms");
        // a short wait: correctness does not depend on it, and every read here waits it out
        try (Pair router = Pair.start(true, Duration.ofMillis(1)); Connection c = router.connect()) {
            long started = System.nanoTime();
            Result r = roundTrips(c, DELAYED_ROUND_TRIPS, 0);
            System.out.printf("read-your-writes, replay delayed 500ms: %d round trips in %d ms, %d missed, %d read on the standby%n",
                    DELAYED_ROUND_TRIPS, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started), r.missed, r.onStandby);
            assertEquals(0, r.missed, "reads that missed the row just written");
        }
    }

    @Test
    void withThePolicyOffDelayedReplayMissesRows() throws Exception {
        applyDelay("500ms");
        try (Pair router = Pair.start(false, Duration.ZERO); Connection c = router.connect()) {
            Result r = roundTrips(c, 200, 0);
            System.out.printf("read-your-writes off, replay delayed 500ms: 200 round trips, %d missed, %d read on the standby%n",
                    r.missed, r.onStandby);
            assertTrue(r.missed > 0, "with the policy off some reads must miss the row (else the test proves nothing)");
        }
    }

    @Test
    void withoutDelayMostReadsAfterWritesStillGoToTheStandby() throws Exception {
        applyDelay("0");
        try (Pair router = Pair.start(true, Duration.ofMillis(10)); Connection c = router.connect()) {
            Result r = roundTrips(c, SPACED_ROUND_TRIPS, 20);
            System.out.printf("read-your-writes, no delay, 20 ms apart: %d round trips, %d missed, %d read on the standby%n",
                    SPACED_ROUND_TRIPS, r.missed, r.onStandby);
            assertEquals(0, r.missed, "reads that missed the row just written");
            assertTrue(r.onStandby >= SPACED_ROUND_TRIPS * 9 / 10, r.onStandby + " of " + SPACED_ROUND_TRIPS + " reads on the standby");
        }
    }

    private record Result(int missed, int onStandby) {
    }

    /** Insert a new row, then read it back (autocommit both), {@code n} times; counts misses and standby reads. */
    private static Result roundTrips(Connection c, int n, long pauseMillis) throws SQLException, InterruptedException {
        int missed = 0;
        int onStandby = 0;
        try (Statement s = c.createStatement()) {
            for (int i = 0; i < n; i++) {
                long id = ids.incrementAndGet();
                s.executeUpdate("INSERT INTO ryw VALUES (" + id + ")");
                try (ResultSet rs = s.executeQuery("SELECT count(*), inet_server_port() FROM ryw WHERE id = " + id)) {
                    rs.next();
                    if (rs.getLong(1) != 1) {
                        missed++;
                    }
                    if (rs.getInt(2) == standbyPort) {
                        onStandby++;
                    }
                }
                if (pauseMillis > 0) {
                    Thread.sleep(pauseMillis); // load shape: round trips spaced apart, not a wait for a condition
                }
            }
        }
        return new Result(missed, onStandby);
    }

    private static void applyDelay(String delay) throws Exception {
        try (Connection c = standby(); Statement s = c.createStatement()) {
            s.execute("ALTER SYSTEM SET recovery_min_apply_delay = '" + delay + "'");
            s.execute("SELECT pg_reload_conf()");
        }
        String expected = delay.equals("0") ? "0" : delay;
        await().atMost(Duration.ofSeconds(10)).until(() -> expected.equals(standbyScalar("SHOW recovery_min_apply_delay")));
        // let replay catch up with what earlier tests wrote
        await().atMost(Duration.ofSeconds(30)).until(() -> "true".equals(standbyScalar(
                "SELECT (pg_last_wal_replay_lsn() >= '" + primaryScalar("SELECT pg_current_wal_insert_lsn()::text") + "')::text")));
    }

    private static Connection standby() throws SQLException {
        return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + standbyPort + "/postgres", TestPostgres.SUPERUSER, standbyPassword);
    }

    private static String standbyScalar(String sql) throws SQLException {
        try (Connection c = standby(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            return rs.next() ? rs.getString(1) : null;
        }
    }

    private static String primaryScalar(String sql) throws SQLException {
        try (Connection c = primary.connect(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            return rs.next() ? rs.getString(1) : null;
        }
    }

    /** A router in front of the replicated pair, read-your-writes on or off. */
    private record Pair(Vertx vertx, Router router, int port) implements AutoCloseable {
        static Pair start(boolean readYourWrites, Duration replayWait) throws Exception {
            Vertx vertx = Vertx.vertx();
            StaticTopologySource topology = StaticTopologySource.of(
                    new ServerAddress("127.0.0.1", primary.port()), new ServerAddress("127.0.0.1", standbyPort));
            var credentials = LookupCredentials.fixed(TestCluster.AUTH_USER, TestCluster.AUTH_PASSWORD);
            QueryAuthLookup auth = new QueryAuthLookup(vertx, () -> topology.current().primary(), "postgres", credentials, Duration.ofSeconds(30));
            PgProcCatalogSource functions = new PgProcCatalogSource(vertx, () -> topology.current().primary(), credentials);
            Router router = Router.start(vertx, RouterSettings.defaults(), topology, auth, functions, RouterEvents.NONE)
                    .toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
            if (readYourWrites) {
                router.readYourWrites(credentials, "postgres", Duration.ofMillis(50), replayWait).toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
            }
            int port = router.listen("127.0.0.1", 0, false).toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
            return new Pair(vertx, router, port);
        }

        Connection connect() throws SQLException {
            Properties p = new Properties();
            p.setProperty("user", TestCluster.APP_USER);
            p.setProperty("password", TestCluster.APP_PASSWORD);
            p.setProperty("sslmode", "disable");
            p.setProperty("socketTimeout", "30");
            return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/postgres", p);
        }

        @Override
        public void close() throws Exception {
            router.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
            vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        }
    }
}
