package io.pgha.router.proxy;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Properties;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Where statements run, seen through the JDBC driver: {@code inet_server_port()} tells the server. */
class RoutingProxyTest {
    static RouterFixture fx;

    @BeforeAll
    static void start() throws Exception {
        for (TestCluster.Server pg : new TestCluster.Server[] {TestCluster.get().primary, TestCluster.get().standby}) {
            TestCluster.exec(pg, "CREATE OR REPLACE FUNCTION public.bump() RETURNS int LANGUAGE sql VOLATILE AS 'SELECT inet_server_port()'");
            TestCluster.exec(pg, "CREATE OR REPLACE FUNCTION public.calm() RETURNS int LANGUAGE sql STABLE AS 'SELECT inet_server_port()'");
        }
        fx = RouterFixture.start(RouterSettings.defaults().withPoolSize(4).withFunctionRefresh(java.time.Duration.ofMillis(300)));
    }

    @AfterAll
    static void stop() throws Exception {
        fx.close();
    }

    static int port(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            assertTrue(rs.next());
            return rs.getInt(1);
        }
    }

    @Test
    void readsGoToTheStandbyAndWritesToThePrimary() throws Exception {
        try (Connection c = fx.connect()) {
            assertEquals(fx.standbyPort(), port(c, "select inet_server_port()"));
            assertEquals(fx.standbyPort(), port(c, "select inet_server_port() from items where false union all select inet_server_port()"));
            assertEquals(fx.primaryPort(), port(c, "insert into items(note) values ('x') returning inet_server_port()"));
            assertEquals(fx.primaryPort(), port(c, "with d as (delete from items where note = 'nothing' returning 1) select inet_server_port()"));
            assertEquals(fx.primaryPort(), port(c, "select inet_server_port() from (select 1) s for update"));
            assertEquals(fx.primaryPort(), port(c, "select inet_server_port() + 0 * nextval('counter')"));
            assertEquals(fx.primaryPort(), port(c, "select inet_server_port() from (select pg_advisory_xact_lock(7)) s"));
            assertEquals(fx.primaryPort(), port(c, "/* pgha:primary */ select inet_server_port()"));
            assertEquals(fx.standbyPort(), port(c, "select inet_server_port() + 0 * extract(epoch from now())::int + 0 * random()::int"));
        }
    }

    @Test
    void readWriteListenerSendsEverythingToThePrimary() throws Exception {
        try (Connection c = fx.connect(fx.rwPort, new Properties())) {
            assertEquals(fx.primaryPort(), port(c, "select inet_server_port()"));
        }
    }

    @Test
    void explicitTransactionsStayOnOneServer() throws Exception {
        try (Connection c = fx.connect()) {
            c.setAutoCommit(false);
            assertEquals(fx.primaryPort(), port(c, "select inet_server_port()"));
            assertEquals(fx.primaryPort(), port(c, "insert into items(note) values ('tx') returning inet_server_port()"));
            assertEquals(fx.primaryPort(), port(c, "select inet_server_port()"));
            c.commit();
            c.setReadOnly(true);
            assertEquals(fx.standbyPort(), port(c, "select inet_server_port()"));
            assertEquals(fx.standbyPort(), port(c, "select inet_server_port()"));
            c.commit();
        }
    }

    @Test
    void serverSidePreparedStatementsWork() throws Exception {
        Properties p = new Properties();
        p.setProperty("prepareThreshold", "1");
        try (Connection c = fx.connect(fx.port, p); PreparedStatement ps = c.prepareStatement("select $1::int + 1, inet_server_port()".replace("$1", "?"))) {
            for (int i = 0; i < 50; i++) {
                ps.setInt(1, i);
                try (ResultSet rs = ps.executeQuery()) {
                    assertTrue(rs.next());
                    assertEquals(i + 1, rs.getInt(1));
                    assertEquals(fx.standbyPort(), rs.getInt(2));
                }
            }
            try (PreparedStatement ins = c.prepareStatement("insert into items(note) values (?) returning inet_server_port()")) {
                for (int i = 0; i < 20; i++) {
                    ins.setString(1, "p" + i);
                    try (ResultSet rs = ins.executeQuery()) {
                        assertTrue(rs.next());
                        assertEquals(fx.primaryPort(), rs.getInt(1));
                    }
                }
            }
        }
    }

    @Test
    void wrongPasswordAndUnknownUserAreRejected() {
        Properties bad = new Properties();
        bad.setProperty("password", "wrong");
        SQLException e = assertThrows(SQLException.class, () -> fx.connect(fx.port, bad).close());
        assertEquals("28P01", e.getSQLState());
        Properties unknown = new Properties();
        unknown.setProperty("user", "nobody_here");
        SQLException e2 = assertThrows(SQLException.class, () -> fx.connect(fx.port, unknown).close());
        assertEquals("28P01", e2.getSQLState());
    }

    @Test
    void aRoleCreatedAfterTheRouterStartedCanLogIn() throws Exception {
        Properties p = new Properties();
        p.setProperty("user", "late_role");
        p.setProperty("password", "late-secret");
        assertThrows(SQLException.class, () -> fx.connect(fx.port, p).close());
        fx.cluster.createRole("late_role", "late-secret");
        try (Connection c = fx.connect(fx.port, p)) {
            assertEquals(fx.standbyPort(), port(c, "select inet_server_port()"));
        }
    }

    @Test
    void volatileUserFunctionsGoToThePrimaryAndAreRelearned() throws Exception {
        try (Connection c = fx.connect()) {
            assertEquals(fx.primaryPort(), port(c, "select bump()"));
            assertEquals(fx.primaryPort(), port(c, "select public.bump()"));
            assertEquals(fx.standbyPort(), port(c, "select calm()"));
            for (TestCluster.Server pg : new TestCluster.Server[] {fx.cluster.primary, fx.cluster.standby}) {
                TestCluster.exec(pg, "CREATE OR REPLACE FUNCTION public.late() RETURNS int LANGUAGE sql VOLATILE AS 'SELECT inet_server_port()'");
            }
            org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(10))
                    .until(() -> port(c, "select late()") == fx.primaryPort());
        }
    }

    @Test
    void serverConnectionsUseTlsWhereTheServerOffersIt() throws Exception {
        try (Connection c = fx.connect(fx.rwPort, new Properties())) {
            assertEquals(fx.primaryPort(), port(c, "select inet_server_port()"));
            try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("select ssl::text from pg_stat_ssl where pid = pg_backend_pid()")) {
                rs.next();
                assertEquals("true", rs.getString(1), "the primary offers TLS and the router prefers it");
            }
        }
        try (Connection c = fx.connect(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("select ssl::text, inet_server_port() from pg_stat_ssl where pid = pg_backend_pid()")) {
            rs.next();
            assertEquals("false", rs.getString(1), "the standby does not offer TLS");
            assertEquals(fx.standbyPort(), rs.getInt(2));
        }
    }
}
