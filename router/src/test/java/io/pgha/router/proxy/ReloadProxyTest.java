package io.pgha.router.proxy;

import io.pgha.router.routing.ReadPolicy;
import io.pgha.router.pool.PoolMode;
import io.pgha.router.pool.PoolKey;
import io.pgha.router.pool.ServerPool;
import io.pgha.router.topology.ServerAddress;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Settings applied to a running router ({@link Router#reconfigure}): each takes effect while a
 * client holds its connection, and that connection keeps working.
 */
class ReloadProxyTest {
    private RouterFixture fx;

    @AfterEach
    void stop() throws Exception {
        if (fx != null) {
            fx.close();
        }
    }

    private void reconfigure(RouterSettings next) throws Exception {
        fx.router.reconfigure(next).toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    private static int port(Connection c) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("select inet_server_port()")) {
            rs.next();
            return rs.getInt(1);
        }
    }

    /** SHOW POOLS from the admin console, as psql prints it unaligned. */
    private String showPools() throws Exception {
        Tools.Result r = Tools.run(TestCluster.APP_PASSWORD, null, Tools.PSQL, "-X", "-At", "-F", "|", "-h", "127.0.0.1",
                "-p", Integer.toString(fx.port), "-U", TestCluster.APP_USER, "-d", "pgha", "-c", "SHOW POOLS");
        assertEquals(0, r.exitCode(), r.output());
        return r.output();
    }

    @Test
    void readPolicyMovesTheNextReadsOfAHeldConnection() throws Exception {
        RouterSettings settings = RouterSettings.defaults();
        fx = RouterFixture.start(settings);
        try (Connection held = fx.connect()) {
            assertEquals(fx.standbyPort(), port(held));
            reconfigure(settings.withReadPolicy(ReadPolicy.PRIMARY));
            assertEquals(fx.primaryPort(), port(held));
            try (Connection fresh = fx.connect()) {
                assertEquals(fx.primaryPort(), port(fresh));
            }
            reconfigure(settings.withReadPolicy(ReadPolicy.ANY));
            Set<Integer> seen = new HashSet<>();
            for (int i = 0; i < 10; i++) {
                seen.add(port(held));
            }
            assertEquals(Set.of(fx.primaryPort(), fx.standbyPort()), seen, "reads spread over both servers");
            reconfigure(settings);
            assertEquals(fx.standbyPort(), port(held));
        }
    }

    @Test
    void aGrownPoolServesAWaitingClientAtOnceAndAShrunkOneClosesConnectionsAsTheyComeBack() throws Exception {
        RouterSettings settings = RouterSettings.defaults().withPoolSize(1);
        fx = RouterFixture.start(settings);
        try (Connection first = fx.connect(); Connection second = fx.connect();
             Statement s1 = first.createStatement(); Statement s2 = second.createStatement()) {
            first.setAutoCommit(false);
            second.setAutoCommit(false);
            s1.execute("insert into items(note) values ('reload-1')");
            // the pool's one connection is lent to the first client: the second waits
            CompletableFuture<Void> waiting = CompletableFuture.runAsync(() -> {
                try {
                    s2.execute("insert into items(note) values ('reload-2')");
                } catch (SQLException e) {
                    throw new IllegalStateException(e);
                }
            });
            ServerPool pool = fx.router.pools().pool(new PoolKey(TestCluster.APP_USER, "postgres", new ServerAddress("127.0.0.1", fx.primaryPort())));
            await().atMost(Duration.ofSeconds(10)).until(() -> fx.router.onLoopCount(pool::waiting) == 1);
            assertFalse(waiting.isDone());
            reconfigure(settings.withPoolSize(2));
            waiting.get(10, TimeUnit.SECONDS);
            assertEquals(2, fx.router.onLoopCount(pool::total));
            assertTrue(showPools().contains("postgres|app|127.0.0.1:" + fx.primaryPort() + "|0|2|0|2|2"), showPools());

            reconfigure(settings);
            // both connections are lent: nothing to close until they come back
            assertEquals(2, fx.router.onLoopCount(pool::total));
            first.commit();
            second.commit();
            await().atMost(Duration.ofSeconds(10)).until(() -> fx.router.onLoopCount(pool::total) == 1);
            s1.execute("insert into items(note) values ('reload-3')");
            first.commit();
            s2.execute("insert into items(note) values ('reload-4')");
            second.commit();
            assertTrue(showPools().contains("postgres|app|127.0.0.1:" + fx.primaryPort() + "|0|0|1|1|1"), showPools());
        }
    }

    @Test
    void aLowerClientLimitRefusesNewClientsAndKeepsConnectedOnes() throws Exception {
        RouterSettings settings = RouterSettings.defaults();
        fx = RouterFixture.start(settings);
        try (Connection a = fx.connect(); Connection b = fx.connect()) {
            reconfigure(settings.withMaxClientConnections(1));
            SQLException refused = assertThrows(SQLException.class, fx::connect);
            assertEquals("53300", refused.getSQLState());
            assertEquals(fx.standbyPort(), port(a));
            assertEquals(fx.standbyPort(), port(b));
            reconfigure(settings);
            try (Connection c = fx.connect()) {
                assertEquals(fx.standbyPort(), port(c));
            }
        }
    }

    @Test
    void aNewPoolModeAppliesToNewClientsOnly() throws Exception {
        RouterSettings settings = RouterSettings.defaults();
        fx = RouterFixture.start(settings);
        try (Connection before = fx.connect()) {
            reconfigure(settings.withPoolMode(PoolMode.SESSION));
            try (Connection after = fx.connect()) {
                // session pooling sends everything to the primary; the earlier client keeps splitting
                assertEquals(fx.primaryPort(), port(after));
                assertEquals(fx.standbyPort(), port(before));
            }
        }
    }
}
