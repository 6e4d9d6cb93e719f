package io.pgha.router.proxy;

import io.pgha.api.postgres.Scram;
import io.pgha.router.auth.QueryAuthLookup;
import io.pgha.router.protocol.PgMessages;
import io.pgha.router.protocol.PgProtocol;
import io.pgha.router.protocol.PgProtocol.Backend;
import io.vertx.core.buffer.Buffer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Hostile or careless clients cost the router bounded memory, bounded server sessions and nobody else's queries. */
class HardeningProxyTest {
    /** The login timeout of the stalled-logins test: long enough for a good client to log in on a loaded machine. */
    static final Duration LOGIN_TIMEOUT = Duration.ofSeconds(5);
    static RouterFixture fx;

    @BeforeAll
    static void start() throws Exception {
        TestCluster cluster = TestCluster.get();
        // a read that raises many notices before its row (STABLE: the classifier sends it to a standby)
        for (TestCluster.Server pg : new TestCluster.Server[] {cluster.primary, cluster.standby}) {
            TestCluster.exec(pg, """
                    CREATE OR REPLACE FUNCTION noisy(n int, pause float8) RETURNS int STABLE LANGUAGE plpgsql AS $$
                    BEGIN
                      FOR i IN 1..n LOOP RAISE NOTICE 'notice % of a long run of notices before the first row', i; END LOOP;
                      PERFORM pg_sleep(pause);
                      RETURN n;
                    END $$""");
        }
        fx = RouterFixture.start(RouterSettings.defaults().withPoolSize(1));
    }

    @AfterAll
    static void stop() throws Exception {
        fx.close();
    }

    /** Sends a startup packet and reads the SASL request: the client is now in the middle of authentication. */
    private static RawClient startLogin(int port, String user) throws IOException {
        RawClient c = new RawClient(port);
        c.send(PgMessages.startupMessage(Map.of("user", user, "database", "postgres")));
        assertEquals(Backend.AUTHENTICATION, c.read().type());
        return c;
    }

    @Test
    void aLargeMessageAnnouncedBeforeLoginClosesTheConnectionAtOnce() throws IOException {
        try (RawClient c = startLogin(fx.port, TestCluster.APP_USER)) {
            long started = System.nanoTime();
            c.send(Buffer.buffer().appendByte(PgProtocol.Frontend.PASSWORD).appendInt(1024 * 1024));
            RawClient.Message m = c.readToEnd();
            assertNotNull(m);
            assertEquals(Backend.ERROR_RESPONSE, m.type());
            assertEquals(PgProtocol.SqlState.PROGRAM_LIMIT_EXCEEDED, m.sqlState());
            assertTrue(System.nanoTime() - started < LOGIN_TIMEOUT.toNanos(), "closed at once, not at a timeout");
        }
    }

    @Test
    void stalledLoginsDoNotKeepAGoodClientOutAndCloseAtTheLoginTimeout() throws Exception {
        List<RawClient> stalled = new ArrayList<>();
        try (RouterFixture timed = RouterFixture.start(RouterSettings.defaults().withLoginTimeout(LOGIN_TIMEOUT))) {
            long started = System.nanoTime();
            for (int i = 0; i < 500; i++) {
                stalled.add(startLogin(timed.port, TestCluster.APP_USER));
            }
            try (Connection good = timed.connect(); Statement s = good.createStatement(); ResultSet rs = s.executeQuery("select 6 * 7")) {
                rs.next();
                assertEquals(42, rs.getInt(1));
            }
            for (RawClient c : stalled) {
                c.socket.setSoTimeout((int) LOGIN_TIMEOUT.toMillis() + 10_000);
                RawClient.Message last = c.readToEnd();
                assertNotNull(last, "told why before being closed");
                assertEquals(Backend.ERROR_RESPONSE, last.type());
            }
            long took = System.nanoTime() - started;
            assertTrue(took >= LOGIN_TIMEOUT.toNanos(), "closed at the timeout, not before: " + took / 1_000_000 + " ms");
            await().atMost(Duration.ofSeconds(10)).until(() -> timed.router.clientCount() == 0);
        } finally {
            for (RawClient c : stalled) {
                c.close();
            }
        }
    }

    /** Server sessions ever started on the primary's postgres database (the look-up database). */
    private static long sessionsStarted() throws SQLException {
        return Long.parseLong(TestCluster.scalar(fx.cluster.primary, "SELECT sessions FROM pg_stat_database WHERE datname = 'postgres'"));
    }

    /** An unknown role's login up to the proof: the salt the router showed, and the final answer. */
    private static String[] loginAsUnknown(String user) throws IOException {
        try (RawClient c = startLogin(fx.port, user)) {
            String clientFirstBare = "n=,r=" + Scram.nonce();
            c.send(PgMessages.saslInitialResponse(Scram.MECHANISM, ("n,," + clientFirstBare).getBytes(StandardCharsets.UTF_8)));
            RawClient.Message cont = c.read();
            String serverFirst = new String(cont.payload(), 4, cont.payload().length - 4, StandardCharsets.UTF_8);
            Map<Character, String> attrs = Scram.attributes(serverFirst);
            String withoutProof = "c=biws,r=" + attrs.get('r');
            c.send(PgMessages.saslResponse((withoutProof + ",p=" + Scram.b64(new byte[Scram.KEY_LENGTH])).getBytes(StandardCharsets.UTF_8)));
            return new String[] {attrs.get('s'), c.readToEnd().sqlState()};
        }
    }

    @Test
    void unknownRolesCostAtMostTheLookupPoolsSessionsAndLookLikeWrongPasswords() throws Exception {
        long before = sessionsStarted();
        ExecutorService exec = Executors.newFixedThreadPool(16);
        AtomicInteger refused = new AtomicInteger();
        try {
            List<Future<?>> logins = new ArrayList<>();
            for (int i = 0; i < 1000; i++) {
                String user = "nobody_" + i;
                logins.add(exec.submit(() -> {
                    if (PgProtocol.SqlState.INVALID_PASSWORD.equals(loginAsUnknown(user)[1])) {
                        refused.incrementAndGet();
                    }
                    return null;
                }));
            }
            for (Future<?> f : logins) {
                f.get(60, TimeUnit.SECONDS);
            }
        } finally {
            exec.shutdownNow();
        }
        assertEquals(1000, refused.get(), "every unknown role fails like a wrong password (28P01)");
        // the two sessions of this test's own counting queries come on top of the look-ups' own
        long started = sessionsStarted() - before - 2;
        assertTrue(started <= QueryAuthLookup.MAX_SESSIONS, started + " server sessions for 1000 unknown-role logins");

        // the same unknown name shows the same salt every time, as a real role does; another name another one
        String salt = loginAsUnknown("nobody_1")[0];
        assertEquals(salt, loginAsUnknown("nobody_1")[0]);
        assertNotEquals(salt, loginAsUnknown("nobody_2")[0]);
    }

    @Test
    void aRoleCreatedAfterAFailedLoginCanLogInSoon() throws Exception {
        assertEquals(PgProtocol.SqlState.INVALID_PASSWORD, loginAsUnknown("hardening_late_role")[1]);
        fx.cluster.createRole("hardening_late_role", "hardening-late-secret");
        await().atMost(QueryAuthLookup.MISS_TTL.plusSeconds(5)).pollInterval(Duration.ofMillis(200)).ignoreExceptions().untilAsserted(() -> {
            try (RawClient c = new RawClient(fx.port)) {
                c.login("hardening_late_role", "hardening-late-secret");
            }
        });
    }

    @Test
    void theReplicationRoleGetsNoVerifierButSuperusersDo() throws Exception {
        TestCluster.exec(fx.cluster.primary, "CREATE ROLE streamer REPLICATION LOGIN PASSWORD 'x'");
        assertNull(TestCluster.scalar(fx.cluster.primary, "SELECT passwd FROM pgha.auth_lookup('streamer')"));
        assertTrue(TestCluster.scalar(fx.cluster.primary, "SELECT passwd FROM pgha.auth_lookup(current_user)").startsWith("SCRAM-SHA-256$"));
    }

    @Test
    void aCancelReachesOnlyTheClientItWasMeantFor() throws Exception {
        // one server connection: the moment A's query ends the same backend runs B's
        try (RawClient a = new RawClient(fx.rwPort); RawClient b = new RawClient(fx.rwPort)) {
            a.login(TestCluster.APP_USER, TestCluster.APP_PASSWORD);
            b.login(TestCluster.APP_USER, TestCluster.APP_PASSWORD);
            int cancelledB = 0;
            for (int round = 0; round < 40; round++) {
                a.send(PgMessages.query("select pg_sleep(0.002)"));
                try (RawClient cancel = new RawClient(fx.rwPort)) {
                    cancel.send(PgMessages.cancelRequest(a.processId, a.secretKey));
                }
                b.send(PgMessages.query("select pg_sleep(0.05)"));
                a.untilReady();
                if (PgProtocol.SqlState.QUERY_CANCELED.equals(b.untilReady().error())) {
                    cancelledB++;
                }
            }
            assertEquals(0, cancelledB, "B's queries cancelled by A's cancel requests");
        }
    }

    @Test
    void aNoticeFloodBeforeTheFirstRowIsForwardedNotHeld() throws Exception {
        try (RawClient c = new RawClient(fx.port)) {
            c.login(TestCluster.APP_USER, TestCluster.APP_PASSWORD);
            // about 150 KiB of notices, more than the router holds back for a retry, then a 1.5 s pause
            c.send(PgMessages.query("select noisy(2000, 1.5), inet_server_port()"));
            long firstNotice = 0;
            long row = 0;
            int notices = 0;
            for (RawClient.Message m = c.read(); m.type() != Backend.READY_FOR_QUERY; m = c.read()) {
                if (m.type() == Backend.NOTICE_RESPONSE && notices++ == 0) {
                    firstNotice = System.nanoTime();
                } else if (m.type() == Backend.DATA_ROW) {
                    row = System.nanoTime();
                    assertTrue(m.text().contains(Integer.toString(fx.standbyPort())), "ran on the standby");
                }
            }
            assertEquals(2000, notices);
            assertTrue(row - firstNotice > Duration.ofMillis(1000).toNanos(),
                    "notices reached the client while the query still ran, not all at once with its row ("
                            + (row - firstNotice) / 1_000_000 + " ms apart)");
        }
    }

    /** What the primary's backend running {@code marker}'s statement waits for, or "none" when it runs no more. */
    private static String waitOf(String marker) throws SQLException {
        return TestCluster.scalar(TestCluster.get().primary, "select coalesce((select coalesce(wait_event, 'cpu') from pg_stat_activity"
                + " where state = 'active' and query like '%" + marker + "%' and pid <> pg_backend_pid()), 'none')");
    }

    @Test
    void aClientThatDoesNotReadItsRowsStopsTheServerInsteadOfFillingTheRouter() throws Exception {
        try (RawClient c = new RawClient(fx.rwPort)) {
            c.login(TestCluster.APP_USER, TestCluster.APP_PASSWORD);
            // 100 MB of rows, several times what the sockets between server, router and client hold
            c.send(PgMessages.query("select /* unread */ repeat('x', 10000) from generate_series(1, 10000)"));
            // the router stops reading the server once the client's socket is full: the backend waits to
            // write, and keeps waiting, instead of handing all its rows to the router's memory
            await().atMost(Duration.ofSeconds(30)).until(() -> waitOf("unread"), "ClientWrite"::equals);
            await().during(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(10)).until(() -> waitOf("unread"), "ClientWrite"::equals);
        }
    }

    @Test
    void aServerThatDoesNotReadPausesTheClientInsteadOfFillingTheRouter() throws Exception {
        ExecutorService writer = Executors.newSingleThreadExecutor();
        try (Connection holder = TestCluster.get().primary.connect(); Statement lock = holder.createStatement();
             RawClient c = new RawClient(fx.rwPort)) {
            lock.execute("select pg_advisory_lock(4242)");
            c.login(TestCluster.APP_USER, TestCluster.APP_PASSWORD);
            c.send(PgMessages.query("select /* blocked */ pg_advisory_lock(4242)"));
            await().atMost(Duration.ofSeconds(30)).until(() -> waitOf("blocked"), "advisory"::equals);
            // the backend waits for the lock and reads nothing: 100 queries of 1 MB behind it
            byte[] query = PgMessages.query("select '" + "x".repeat(1 << 20) + "'").getBytes();
            AtomicInteger sent = new AtomicInteger();
            Future<?> flood = writer.submit(() -> {
                for (int i = 0; i < 100; i++) {
                    c.send(query);
                    sent.incrementAndGet();
                }
                return null;
            });
            // the router stops reading the client once the server's socket is full, so the client's
            // writes block long before the 100 MB are through (after 8-9 MB here: the send buffers)
            assertThrows(TimeoutException.class, () -> flood.get(5, TimeUnit.SECONDS),
                    "the router took all 100 MB while the server read none of it");
            assertTrue(sent.get() < 50, sent.get() + " MB were taken in");
        } finally {
            writer.shutdownNow();
        }
    }

    @Test
    void resetOnReleaseKeepsStateSetInsideADoBlockFromTheNextClient() throws Exception {
        try (RouterFixture reset = RouterFixture.start(RouterSettings.defaults().withPoolSize(1).withResetOnRelease(true));
             Connection a = reset.connect(reset.rwPort, new java.util.Properties());
             Connection b = reset.connect(reset.rwPort, new java.util.Properties());
             Statement sa = a.createStatement(); Statement sb = b.createStatement()) {
            // the router cannot see inside a DO block: without the reset the next client would get this search_path
            sa.execute("DO $$ BEGIN PERFORM set_config('search_path', 'leaked', false); END $$");
            try (ResultSet rs = sb.executeQuery("show search_path")) {
                rs.next();
                assertNotEquals("leaked", rs.getString(1));
            }
        }
    }
}
