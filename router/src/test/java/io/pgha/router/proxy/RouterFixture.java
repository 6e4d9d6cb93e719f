package io.pgha.router.proxy;

import io.pgha.router.topology.LookupCredentials;
import io.pgha.router.auth.QueryAuthLookup;
import io.pgha.router.auth.PgProcCatalogSource;
import io.pgha.router.topology.ServerAddress;
import io.pgha.router.topology.StaticTopologySource;
import io.vertx.core.Vertx;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

/** A router in front of the shared {@link TestCluster}, with a split and a read-write listener. */
final class RouterFixture implements AutoCloseable {
    final TestCluster cluster;
    final Vertx vertx;
    final Router router;
    final StaticTopologySource topology;
    final int port;
    final int rwPort;

    private RouterFixture(TestCluster cluster, Vertx vertx, Router router, StaticTopologySource topology, int port, int rwPort) {
        this.cluster = cluster;
        this.vertx = vertx;
        this.router = router;
        this.topology = topology;
        this.port = port;
        this.rwPort = rwPort;
    }

    static RouterFixture start(RouterSettings settings) throws Exception {
        return start(settings, ClientTls.NONE);
    }

    static RouterFixture start(RouterSettings settings, ClientTls tls) throws Exception {
        TestCluster cluster = TestCluster.get();
        Vertx vertx = Vertx.vertx();
        StaticTopologySource topology = StaticTopologySource.of(
                new ServerAddress("127.0.0.1", cluster.primary.port()), new ServerAddress("127.0.0.1", cluster.standby.port()));
        var credentials = LookupCredentials.fixed(TestCluster.AUTH_USER, TestCluster.AUTH_PASSWORD);
        QueryAuthLookup auth = new QueryAuthLookup(vertx, () -> topology.current().primary(), "postgres",
                credentials, Duration.ofSeconds(30));
        PgProcCatalogSource functions = new PgProcCatalogSource(vertx, () -> topology.current().primary(), credentials);
        Router router = Router.start(vertx, settings, topology, auth, functions, RouterEvents.NONE)
                .toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        router.clientTls(tls);
        router.adminConsole("pgha", java.util.Set.of(TestCluster.APP_USER));
        int port = router.listen("127.0.0.1", 0, false).toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        int rwPort = router.listen("127.0.0.1", 0, true).toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        return new RouterFixture(cluster, vertx, router, topology, port, rwPort);
    }

    String url(int listenerPort, String database) {
        return "jdbc:postgresql://127.0.0.1:" + listenerPort + "/" + database;
    }

    Connection connect() throws SQLException {
        return connect(port, new Properties());
    }

    Connection connect(int listenerPort, Properties extra) throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", TestCluster.APP_USER);
        p.setProperty("password", TestCluster.APP_PASSWORD);
        p.setProperty("sslmode", "disable");
        p.setProperty("connectTimeout", "10");
        p.setProperty("socketTimeout", "30");
        p.putAll(extra);
        return DriverManager.getConnection(url(listenerPort, "postgres"), p);
    }

    int primaryPort() {
        return cluster.primary.port();
    }

    int standbyPort() {
        return cluster.standby.port();
    }

    @Override
    public void close() throws Exception {
        router.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
}
