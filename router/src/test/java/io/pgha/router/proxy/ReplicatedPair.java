package io.pgha.router.proxy;

import io.pgha.api.RouterAuth;
import io.pgha.local.OsUser;
import io.pgha.local.PgBinaries;
import io.pgha.local.PgCtl;
import io.pgha.local.Ports;
import io.pgha.local.ServerProcesses;
import io.pgha.local.testing.TestPostgres;
import io.pgha.local.testing.TempDirectories;
import io.pgha.router.topology.LookupCredentials;
import io.pgha.router.auth.PgProcCatalogSource;
import io.pgha.router.auth.QueryAuthLookup;
import io.pgha.router.topology.ServerAddress;
import io.pgha.router.topology.StaticTopologySource;
import io.pgha.router.topology.TopologySource;
import io.vertx.core.Vertx;

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
import java.util.ArrayList;
import java.util.List;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

import static org.awaitility.Awaitility.await;

/**
 * A real replicated pair for one test class: a primary and a streaming hot standby cloned from it
 * with pg_basebackup. The standby can be stopped, started again and have its replay delayed.
 */
public final class ReplicatedPair implements AutoCloseable {
    static {
        try {
            // register the driver with this class loader's copy (Quarkus tests load their own)
            Class.forName("org.postgresql.Driver");
        } catch (ClassNotFoundException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    public final TestPostgres primary;
    public final int standbyPort;
    private final Path standbyRoot;
    private final PgCtl standbyCtl;
    private final Map<String, String> standbySettings;

    private ReplicatedPair(TestPostgres primary, Path standbyRoot, PgCtl standbyCtl, int standbyPort, Map<String, String> standbySettings) {
        this.primary = primary;
        this.standbyRoot = standbyRoot;
        this.standbyCtl = standbyCtl;
        this.standbyPort = standbyPort;
        this.standbySettings = standbySettings;
    }

    /** Starts both servers; {@code setupSql} runs on the primary before the standby is cloned. */
    public static ReplicatedPair start(String... setupSql) throws Exception {
        TestPostgres primary = TestPostgres.start(Map.of("wal_level", "replica", "max_wal_senders", "5"));
        try (Connection c = primary.connect(); Statement s = c.createStatement()) {
            s.execute("CREATE ROLE " + TestCluster.APP_USER + " LOGIN PASSWORD '" + TestCluster.APP_PASSWORD + "'");
            s.execute("CREATE ROLE " + TestCluster.AUTH_USER + " LOGIN PASSWORD '" + TestCluster.AUTH_PASSWORD + "'");
            s.execute(RouterAuth.FUNCTION_SQL);
            s.execute(RouterAuth.grantSql(TestCluster.AUTH_USER));
            for (String sql : setupSql) {
                s.execute(sql);
            }
        }
        OsUser user = OsUser.forPostgres();
        Path root = Files.createTempDirectory(Path.of("/tmp"), "pgha-test-standby",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
        user.chown(root);
        Path passfile = root.resolve("pgpass");
        Files.writeString(passfile, "*:*:*:" + TestPostgres.SUPERUSER + ":" + primary.superuserPassword() + "\n");
        Files.setPosixFilePermissions(passfile, PosixFilePermissions.fromString("rw-------"));
        user.chown(passfile);
        String conninfo = "host=127.0.0.1 port=" + primary.port() + " user=" + TestPostgres.SUPERUSER + " passfile=" + passfile;
        PgCtl ctl = new PgCtl(PgBinaries.locate(), user, root.resolve("commands.log"));
        Path data = root.resolve("data");
        ctl.basebackup(conninfo, data, null);
        Path signal = data.resolve("standby.signal");
        Files.writeString(signal, "");
        user.chown(signal);
        int port = Ports.freePort();
        Map<String, String> settings = new LinkedHashMap<>();
        settings.put("port", Integer.toString(port));
        settings.put("listen_addresses", "127.0.0.1");
        settings.put("unix_socket_directories", root.toString());
        settings.put("hot_standby", "on");
        settings.put("fsync", "off");
        settings.put("primary_conninfo", conninfo);
        ReplicatedPair pair = new ReplicatedPair(primary, root, ctl, port, settings);
        pair.startStandby();
        return pair;
    }

    /** Starts the standby and waits until it streams. */
    void startStandby() {
        standbyCtl.start(standbyRoot.resolve("data"), standbySettings, standbyRoot.resolve("server.log"));
        await().atMost(Duration.ofSeconds(30)).until(() -> "true".equals(standbyScalar("SELECT pg_is_in_recovery()::text"))
                && standbyScalar("SELECT status FROM pg_stat_wal_receiver") != null);
    }

    /**
     * Restarts the standby with an empty primary_conninfo: still in recovery and answering, but
     * with no WAL receiver, so it cannot tell whether its primary moved to a new timeline.
     */
    void restartStandbyWithoutWalReceiver() {
        standbyCtl.stop(standbyRoot.resolve("data"), PgCtl.StopMode.FAST);
        Map<String, String> detached = new java.util.LinkedHashMap<>(standbySettings);
        detached.put("primary_conninfo", "");
        standbyCtl.start(standbyRoot.resolve("data"), detached, standbyRoot.resolve("server.log"));
        await().atMost(Duration.ofSeconds(30)).until(() -> "true".equals(standbyScalar("SELECT pg_is_in_recovery()::text")));
    }

    /** Restarts the standby as it was started first: streaming from the primary. */
    void restartStandby() {
        standbyCtl.stop(standbyRoot.resolve("data"), PgCtl.StopMode.FAST);
        startStandby();
    }

    /** Stops the standby as a crash would: {@code pg_ctl stop -m immediate}. */
    void crashStandby() {
        standbyCtl.stop(standbyRoot.resolve("data"), PgCtl.StopMode.IMMEDIATE);
    }

    /**
     * Sends {@code signal} ({@code STOP} or {@code CONT}) to the standby's postmaster and every
     * process under it: STOP makes a server that hangs without closing a connection.
     */
    void signalStandby(String signal) throws IOException, InterruptedException {
        long pid = ServerProcesses.postmaster(standbyRoot.resolve("data")).orElseThrow();
        List<String> command = new ArrayList<>(List.of("kill", "-" + signal, Long.toString(pid)));
        ProcessHandle.of(pid).orElseThrow().descendants().forEach(h -> command.add(Long.toString(h.pid())));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes());
        if (p.waitFor() != 0) {
            throw new IOException("kill -" + signal + " failed: " + output);
        }
    }

    /** Delays the standby's replay ("0" for none) and waits until it caught up with the primary. */
    void applyDelay(String delay) throws SQLException {
        try (Connection c = standby(); Statement s = c.createStatement()) {
            s.execute("ALTER SYSTEM SET recovery_min_apply_delay = '" + delay + "'");
            s.execute("SELECT pg_reload_conf()");
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> delay.equals(standbyScalar("SHOW recovery_min_apply_delay")));
        awaitCaughtUp();
    }

    /** Waits until the standby has replayed everything the primary wrote so far. */
    void awaitCaughtUp() throws SQLException {
        String primaryLsn = primaryScalar("SELECT pg_current_wal_insert_lsn()::text");
        await().atMost(Duration.ofSeconds(30)).until(() -> "true".equals(standbyScalar(
                "SELECT (pg_last_wal_replay_lsn() >= '" + primaryLsn + "')::text")));
    }

    Connection standby() throws SQLException {
        return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + standbyPort + "/postgres", TestPostgres.SUPERUSER,
                primary.superuserPassword());
    }

    String standbyScalar(String sql) throws SQLException {
        try (Connection c = standby(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            return rs.next() ? rs.getString(1) : null;
        }
    }

    String primaryScalar(String sql) throws SQLException {
        try (Connection c = primary.connect(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            return rs.next() ? rs.getString(1) : null;
        }
    }

    /** A router in front of the pair that polls both servers every 50 ms. */
    Proxy router(RouterSettings settings, Duration replayWait) throws Exception {
        return router(StaticTopologySource.of(new ServerAddress("127.0.0.1", primary.port()), new ServerAddress("127.0.0.1", standbyPort)),
                settings, replayWait);
    }

    /** A router that learns the pair's servers from {@code topology}, polling them every 50 ms. */
    Proxy router(TopologySource topology, RouterSettings settings, Duration replayWait) throws Exception {
        Vertx vertx = Vertx.vertx();
        var credentials = LookupCredentials.fixed(TestCluster.AUTH_USER, TestCluster.AUTH_PASSWORD);
        QueryAuthLookup auth = new QueryAuthLookup(vertx, () -> topology.current().primary(), "postgres", credentials, Duration.ofSeconds(30));
        PgProcCatalogSource functions = new PgProcCatalogSource(vertx, () -> topology.current().primary(), credentials);
        Router router = Router.start(vertx, settings, topology, auth, functions, RouterEvents.NONE)
                .toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        router.trackStandbys(credentials, "postgres", Duration.ofMillis(50), replayWait).toCompletionStage().toCompletableFuture()
                .get(10, TimeUnit.SECONDS);
        int port = router.listen("127.0.0.1", 0, false).toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        return new Proxy(vertx, router, port);
    }

    /** A router in front of the pair. */
    record Proxy(Vertx vertx, Router router, int port) implements AutoCloseable {
        Connection connect() throws SQLException {
            return connect(TestCluster.APP_USER, TestCluster.APP_PASSWORD);
        }

        Connection connect(String user, String password) throws SQLException {
            Properties p = new Properties();
            p.setProperty("user", user);
            p.setProperty("password", password);
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

    @Override
    public void close() throws IOException {
        Path log = standbyRoot.resolve("server.log");
        if (Files.exists(log)) {
            System.out.println("standby log:\n" + Files.readString(log));
        }
        standbyCtl.stop(standbyRoot.resolve("data"), PgCtl.StopMode.IMMEDIATE);
        TempDirectories.deleteTree(standbyRoot);
        primary.close();
    }
}
