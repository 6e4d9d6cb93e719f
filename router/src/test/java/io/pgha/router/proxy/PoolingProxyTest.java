package io.pgha.router.proxy;

import io.pgha.router.pool.PoolMode;
import io.pgha.router.pool.ServerPool;
import io.pgha.router.protocol.PgMessages;
import io.pgha.router.protocol.PgProtocol;
import io.pgha.router.topology.ServerAddress;
import io.pgha.router.topology.Topology;
import io.pgha.local.Ports;
import io.vertx.core.buffer.Buffer;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;

import static io.pgha.router.proxy.RoutingProxyTest.port;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Pool sizes, queues, timeouts, session state and server failures, each with a router of its own. */
class PoolingProxyTest {

    static String text(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getString(1);
        }
    }

    static int backendPid(Connection c) throws SQLException {
        return Integer.parseInt(text(c, "select pg_backend_pid()"));
    }

    @Test
    void transactionPoolingSharesOneServerConnectionBetweenClients() throws Exception {
        try (RouterFixture fx = RouterFixture.start(RouterSettings.defaults().withPoolSize(1));
             Connection a = fx.connect(fx.rwPort, new Properties()); Connection b = fx.connect(fx.rwPort, new Properties())) {
            int pidA = backendPid(a);
            int pidB = backendPid(b);
            assertEquals(pidA, pidB, "both clients ran on the one server connection");
            ServerPool pool = fx.router.pools().pools().stream().filter(p -> p.key().server().port() == fx.primaryPort()).findFirst().orElseThrow();
            assertEquals(1, pool.total());
        }
    }

    /**
     * An extended-protocol batch that starts a transaction (Parse, Bind, Execute, Sync in one read)
     * reaches the server in one write: the connection lent at once is flushed at the read's end,
     * not once for the Parse and again for the rest.
     */
    @Test
    void anExtendedBatchThatStartsATransactionReachesTheServerInOneWrite() throws Exception {
        try (RouterFixture fx = RouterFixture.start(RouterSettings.defaults().withPoolSize(1));
             RawClient client = new RawClient(fx.rwPort)) {
            client.login(TestCluster.APP_USER, TestCluster.APP_PASSWORD);
            Buffer begin = Buffer.buffer().appendBuffer(PgMessages.parse("", "begin", new int[0]))
                    .appendBuffer(unnamedBind()).appendBuffer(unnamedExecute()).appendBuffer(PgMessages.sync());
            client.send(begin);
            assertEquals(new RawClient.Ready('T', null), client.untilReady());
            long before = fx.router.onLoopCount(() -> (int) fx.router.sessions().get(0).server().writes());
            client.send(PgMessages.query("commit"));
            assertEquals(new RawClient.Ready('I', null), client.untilReady());
            client.send(begin);
            assertEquals(new RawClient.Ready('T', null), client.untilReady());
            long after = fx.router.onLoopCount(() -> (int) fx.router.sessions().get(0).server().writes());
            assertEquals(2, after - before, "one write for the commit, one for the whole batch");
        }
    }

    /**
     * A client's Close of a named statement is answered by the router, in its place among the
     * replies: the client may use the name again for other text, while the server connection keeps
     * the statement under its shared name for other clients.
     */
    @Test
    void closeOfANamedStatementIsAnsweredByTheRouterAndTheNameCanBeReused() throws Exception {
        try (RouterFixture fx = RouterFixture.start(RouterSettings.defaults().withPoolSize(1));
             RawClient client = new RawClient(fx.rwPort)) {
            client.login(TestCluster.APP_USER, TestCluster.APP_PASSWORD);
            client.send(Buffer.buffer().appendBuffer(PgMessages.parse("s1", "select 1", new int[0])).appendBuffer(PgMessages.sync()));
            assertEquals(List.of(PgProtocol.Backend.PARSE_COMPLETE), types(repliesUntilReady(client)));
            assertEquals("1", firstValue(execute(client, "s1")));

            client.send(Buffer.buffer().appendBuffer(PgMessages.target(PgProtocol.Frontend.CLOSE, PgProtocol.TARGET_STATEMENT, "s1"))
                    .appendBuffer(PgMessages.sync()));
            assertEquals(List.of(PgProtocol.Backend.CLOSE_COMPLETE), types(repliesUntilReady(client)));

            client.send(Buffer.buffer().appendBuffer(PgMessages.parse("s1", "select 2", new int[0])).appendBuffer(PgMessages.sync()));
            assertEquals(List.of(PgProtocol.Backend.PARSE_COMPLETE), types(repliesUntilReady(client)));
            assertEquals("2", firstValue(execute(client, "s1")));

            // one server connection (pool size 1): the statement closed by the client is still prepared there
            client.send(PgMessages.query("select count(*) from pg_prepared_statements where statement = 'select 1'"));
            assertEquals("1", firstValue(repliesUntilReady(client)));
        }
    }

    /** Bind of the named statement to the unnamed portal, Execute, Sync; the replies up to ReadyForQuery. */
    private static List<RawClient.Message> execute(RawClient client, String statement) throws IOException {
        client.send(Buffer.buffer().appendBuffer(bindToUnnamedPortal(statement)).appendBuffer(unnamedExecute()).appendBuffer(PgMessages.sync()));
        return repliesUntilReady(client);
    }

    /** The replies before the next ReadyForQuery; fails on an ErrorResponse. */
    private static List<RawClient.Message> repliesUntilReady(RawClient client) throws IOException {
        List<RawClient.Message> replies = new ArrayList<>();
        for (RawClient.Message m = client.read(); m.type() != PgProtocol.Backend.READY_FOR_QUERY; m = client.read()) {
            assertNotEquals(PgProtocol.Backend.ERROR_RESPONSE, m.type(), m.text());
            replies.add(m);
        }
        return replies;
    }

    private static List<Byte> types(List<RawClient.Message> replies) {
        return replies.stream().map(RawClient.Message::type).toList();
    }

    /** The first column of the first DataRow among the replies, as text. */
    private static String firstValue(List<RawClient.Message> replies) {
        for (RawClient.Message m : replies) {
            if (m.type() == PgProtocol.Backend.DATA_ROW) {
                ByteBuffer row = ByteBuffer.wrap(m.payload());
                row.getShort();
                byte[] value = new byte[row.getInt()];
                row.get(value);
                return new String(value, StandardCharsets.UTF_8);
            }
        }
        throw new AssertionError("no DataRow among " + types(replies));
    }

    private static Buffer unnamedBind() {
        return bindToUnnamedPortal("");
    }

    private static Buffer bindToUnnamedPortal(String statement) {
        byte[] name = statement.getBytes(StandardCharsets.UTF_8);
        // portal "", the statement, no parameter formats, no parameters, no result formats
        return Buffer.buffer().appendByte(PgProtocol.Frontend.BIND).appendInt(4 + 1 + name.length + 1 + 2 + 2 + 2)
                .appendByte((byte) 0).appendBytes(name).appendByte((byte) 0).appendShort((short) 0).appendShort((short) 0).appendShort((short) 0);
    }

    private static Buffer unnamedExecute() {
        // portal "", no row limit
        return Buffer.buffer().appendByte(PgProtocol.Frontend.EXECUTE).appendInt(4 + 1 + 4).appendByte((byte) 0).appendInt(0);
    }

    @Test
    void sessionStatePinsTheClientAndDoesNotLeak() throws Exception {
        try (RouterFixture fx = RouterFixture.start(RouterSettings.defaults().withPoolSize(2))) {
            try (Connection a = fx.connect(fx.rwPort, new Properties()); Connection b = fx.connect(fx.rwPort, new Properties())) {
                try (Statement s = a.createStatement()) {
                    s.execute("set work_mem = '7MB'");
                    s.execute("create temp table scratch (x int)");
                    s.execute("insert into scratch values (1)");
                }
                int pinned = backendPid(a);
                for (int i = 0; i < 5; i++) {
                    assertEquals("7MB", text(a, "show work_mem"));
                    assertEquals("1", text(a, "select count(*) from scratch"));
                    assertEquals(pinned, backendPid(a));
                }
                // the other client never sees the pinned connection's state
                for (int i = 0; i < 5; i++) {
                    assertNotEquals("7MB", text(b, "show work_mem"));
                    assertNotEquals(pinned, backendPid(b));
                }
            }
            // after the pinned client left, its connection was reset with DISCARD ALL before reuse
            try (Connection c = fx.connect(fx.rwPort, new Properties()); Connection d = fx.connect(fx.rwPort, new Properties())) {
                c.setAutoCommit(false);
                d.setAutoCommit(false);
                assertEquals("4MB", text(c, "show work_mem"));
                assertEquals("4MB", text(d, "show work_mem"));
                assertThrows(SQLException.class, () -> text(c, "select count(*) from scratch"));
                c.rollback();
                d.rollback();
            }
        }
    }

    @Test
    void trackedParametersFollowTheClientToEveryServerConnection() throws Exception {
        try (RouterFixture fx = RouterFixture.start(RouterSettings.defaults().withPoolSize(1))) {
            Properties berlin = startupApplicationName("client-a");
            berlin.setProperty("options", "");
            Properties tokyo = startupApplicationName("client-b");
            try (Connection a = fx.connect(fx.rwPort, berlin); Connection b = fx.connect(fx.rwPort, tokyo)) {
                try (Statement s = a.createStatement()) {
                    s.execute("set timezone = 'Europe/Berlin'");
                }
                try (Statement s = b.createStatement()) {
                    s.execute("set timezone to 'Asia/Tokyo'");
                }
                for (int i = 0; i < 3; i++) {
                    assertEquals(backendPid(a), backendPid(b), "one server connection serves both");
                    assertEquals("client-a", text(a, "show application_name"));
                    assertEquals("Europe/Berlin", text(a, "show timezone"));
                    assertEquals("client-b", text(b, "show application_name"));
                    assertEquals("Asia/Tokyo", text(b, "show timezone"));
                }
            }
        }
    }

    /**
     * A tracked parameter one client set, or sent in its startup packet, does not reach a client
     * that set neither: that client sees the server's default on the connection they share.
     */
    @Test
    void aTrackedParameterOneClientSetDoesNotReachAnotherThatNeverSetIt() throws Exception {
        try (RouterFixture fx = RouterFixture.start(RouterSettings.defaults().withPoolSize(1))) {
            Properties named = startupApplicationName("client-a");
            Properties plain = startupApplicationName("");
            try (Connection a = fx.connect(fx.rwPort, named); Connection b = fx.connect(fx.rwPort, plain)) {
                String defaultPath = text(b, "show search_path");
                try (Statement s = a.createStatement()) {
                    s.execute("set search_path = leaked_a, public");
                }
                for (int i = 0; i < 2; i++) {
                    assertEquals("leaked_a, public", text(a, "show search_path"));
                    assertEquals(backendPid(a), backendPid(b), "one server connection serves both");
                    assertEquals(defaultPath, text(b, "show search_path"), "b never set search_path");
                    assertEquals("", text(b, "show application_name"), "b sent no application_name of its own");
                }
                try (Statement s = a.createStatement()) {
                    s.execute("reset search_path");
                }
                assertEquals(defaultPath, text(a, "show search_path"));
                assertEquals("client-a", text(a, "show application_name"));
            }
        }
    }

    /** A RESET returns a parameter to the value of the client's startup packet, as in PostgreSQL. */
    @Test
    void aResetReturnsAParameterToItsStartupValue() throws Exception {
        try (RouterFixture fx = RouterFixture.start(RouterSettings.defaults().withPoolSize(1))) {
            Properties named = startupApplicationName("client-a");
            try (Connection a = fx.connect(fx.rwPort, named); Statement s = a.createStatement()) {
                s.execute("set application_name = renamed");
                assertEquals("renamed", text(a, "show application_name"));
                s.execute("reset application_name");
                assertEquals("client-a", text(a, "show application_name"));
                s.execute("set application_name = renamed");
                s.execute("set application_name to default");
                assertEquals("client-a", text(a, "show application_name"));
            }
        }
    }

    /**
     * A tracked SET the server refuses changes nothing, as in PostgreSQL: the router does not set
     * the refused value on the client's next connections (where it would fail again, and take the
     * SETs after it in the same query down with it).
     */
    @Test
    void aRefusedTrackedSetChangesNothing() throws Exception {
        try (RouterFixture fx = RouterFixture.start(RouterSettings.defaults().withPoolSize(1))) {
            try (Connection a = fx.connect(fx.rwPort, new Properties()); Connection b = fx.connect(fx.rwPort, new Properties())) {
                String zone = text(a, "show timezone");
                String defaultPath = text(a, "show search_path");
                try (Statement s = a.createStatement()) {
                    assertThrows(SQLException.class, () -> s.execute("set timezone = 'No/Such_Zone'"));
                }
                try (Statement s = b.createStatement()) {
                    s.execute("set search_path = leaked_b, public");
                }
                for (int i = 0; i < 2; i++) {
                    assertEquals(backendPid(a), backendPid(b), "one server connection serves both");
                    assertEquals(zone, text(a, "show timezone"));
                    assertEquals(defaultPath, text(a, "show search_path"), "a never set search_path");
                    assertEquals("leaked_b, public", text(b, "show search_path"));
                }
            }
        }
    }

    /**
     * A named statement that is a tracked SET takes effect each time it runs, not when it is
     * prepared: with two prepared, running the first again after the second leaves the first's
     * value, which the client keeps on a connection another client used in between.
     */
    @Test
    void aNamedTrackedSetTakesEffectWhenItRunsNotWhenItIsPrepared() throws Exception {
        try (RouterFixture fx = RouterFixture.start(RouterSettings.defaults().withPoolSize(1));
             RawClient a = new RawClient(fx.rwPort);
             Connection b = fx.connect(fx.rwPort, new Properties())) {
            String defaultPath = text(b, "show search_path");
            a.login(TestCluster.APP_USER, TestCluster.APP_PASSWORD);
            a.send(Buffer.buffer().appendBuffer(PgMessages.parse("first", "set search_path = first, public", new int[0]))
                    .appendBuffer(PgMessages.parse("second", "set search_path = second, public", new int[0]))
                    .appendBuffer(PgMessages.sync()));
            repliesUntilReady(a);
            assertEquals(defaultPath, show(a, "search_path"), "prepared, not run");
            execute(a, "second");
            execute(a, "first");
            assertEquals("first, public", show(a, "search_path"));
            assertEquals(defaultPath, text(b, "show search_path"), "b never set search_path");
            assertEquals("first, public", show(a, "search_path"), "set again on the connection b used");
        }
    }

    /**
     * A prepared DISCARD ALL drops the server's prepared statements when it runs, not when it is
     * prepared: the router re-prepares a statement on that connection only after it ran.
     */
    @Test
    void aPreparedDiscardCountsWhenItRuns() throws Exception {
        try (RouterFixture fx = RouterFixture.start(RouterSettings.defaults().withPoolSize(1));
             RawClient a = new RawClient(fx.rwPort)) {
            a.login(TestCluster.APP_USER, TestCluster.APP_PASSWORD);
            a.send(Buffer.buffer().appendBuffer(PgMessages.parse("discard", "discard all", new int[0]))
                    .appendBuffer(PgMessages.parse("one", "select 1", new int[0])).appendBuffer(PgMessages.sync()));
            repliesUntilReady(a);
            assertEquals("1", firstValue(execute(a, "one")));
            assertEquals("1", firstValue(execute(a, "one")), "prepared once on the connection, and still there");
            execute(a, "discard");
            assertEquals("1", firstValue(execute(a, "one")), "prepared again after the DISCARD ALL dropped it");
        }
    }

    /**
     * JDBC properties that put {@code application_name} in the startup packet: without
     * assumeMinServerVersion pgjdbc sends it in a SET after login, which a RESET or DISCARD ALL undoes.
     */
    private static Properties startupApplicationName(String name) {
        Properties p = new Properties();
        p.setProperty("ApplicationName", name);
        p.setProperty("assumeMinServerVersion", "9.0");
        return p;
    }

    private static String show(RawClient client, String parameter) throws IOException {
        client.send(PgMessages.query("show " + parameter));
        return firstValue(repliesUntilReady(client));
    }

    /**
     * Pipelined requests (as the Vert.x client sends them): a failing query, then a tracked SET
     * that succeeds, then one the server refuses, all in one write. Each SET is judged by its own
     * request: the second holds, the third does not, and the router knows what the connection holds
     * when it lends it to another client.
     */
    @Test
    void pipelinedTrackedSetsAreEachJudgedByTheirOwnRequest() throws Exception {
        try (RouterFixture fx = RouterFixture.start(RouterSettings.defaults().withPoolSize(1));
             RawClient a = new RawClient(fx.rwPort);
             Connection b = fx.connect(fx.rwPort, new Properties())) {
            String defaultPath = text(b, "show search_path");
            a.login(TestCluster.APP_USER, TestCluster.APP_PASSWORD);
            a.send(PgMessages.query("show timezone"));
            String zone = firstValue(repliesUntilReady(a));
            a.send(Buffer.buffer().appendBuffer(PgMessages.query("select 1/0"))
                    .appendBuffer(PgMessages.query("set search_path = piped, public"))
                    .appendBuffer(PgMessages.query("set timezone = 'No/Such_Zone'")));
            assertEquals(new RawClient.Ready('I', "22012"), a.untilReady());
            assertEquals(new RawClient.Ready('I', null), a.untilReady());
            assertEquals(new RawClient.Ready('I', "22023"), a.untilReady());
            for (int i = 0; i < 2; i++) {
                assertEquals(defaultPath, text(b, "show search_path"), "b never set search_path");
                a.send(PgMessages.query("show search_path"));
                assertEquals("piped, public", firstValue(repliesUntilReady(a)));
                a.send(PgMessages.query("show timezone"));
                assertEquals(zone, firstValue(repliesUntilReady(a)), "the refused zone is not set again");
            }
        }
    }

    /**
     * PostgreSQL refuses a startup packet with an invalid value for a parameter; the router learns
     * of one only when it sets it on a lent connection, and then ends that client the same way,
     * naming the parameter. The connection is not handed on in an unknown state: the next client
     * is served, and a SET the failed client had sent in the same read does not reach it.
     */
    @Test
    void anInvalidStartupValueEndsThatClientAtItsFirstTransaction() throws Exception {
        try (RouterFixture fx = RouterFixture.start(RouterSettings.defaults().withPoolSize(1));
             RawClient a = new RawClient(fx.rwPort);
             Connection b = fx.connect(fx.rwPort, new Properties())) {
            String defaultPath = text(b, "show search_path");
            a.login(TestCluster.APP_USER, TestCluster.APP_PASSWORD, "postgres", Map.of("IntervalStyle", "no_such_style"));
            a.send(PgMessages.query("set search_path = from_a, public"));
            RawClient.Message last = a.readToEnd();
            assertEquals(PgProtocol.Backend.ERROR_RESPONSE, last.type());
            assertEquals("22023", last.sqlState());
            assertTrue(last.text().contains("intervalstyle") || last.text().contains("IntervalStyle"), last.text());
            for (int i = 0; i < 2; i++) {
                assertEquals(defaultPath, text(b, "show search_path"));
            }
        }
    }

    /**
     * A tracked SET inside a transaction that is rolled back is undone, as in PostgreSQL, on every
     * connection the client is lent afterwards; one in a committed transaction stays. (One server
     * connection serves both clients: the pool holds one.)
     */
    @Test
    void aTrackedSetInARolledBackTransactionIsUndone() throws Exception {
        try (RouterFixture fx = RouterFixture.start(RouterSettings.defaults().withPoolSize(1))) {
            try (Connection a = fx.connect(fx.rwPort, new Properties()); Connection b = fx.connect(fx.rwPort, new Properties())) {
                String defaultPath = text(a, "show search_path");
                a.setAutoCommit(false);
                try (Statement s = a.createStatement()) {
                    s.execute("set search_path = undone, public");
                }
                assertEquals("undone, public", text(a, "show search_path"));
                a.rollback();
                assertEquals(defaultPath, text(a, "show search_path"));
                a.commit();
                assertEquals(defaultPath, text(b, "show search_path"));
                assertEquals(defaultPath, text(a, "show search_path"), "the rolled-back value is not set again");
                a.commit();
                try (Statement s = a.createStatement()) {
                    s.execute("set search_path = kept, public");
                }
                a.commit();
                assertEquals(defaultPath, text(b, "show search_path"));
                assertEquals("kept, public", text(a, "show search_path"));
                a.commit();
            }
        }
    }

    /**
     * After a rollback to a savepoint only the server knows which tracked SETs still hold: the
     * client stays on its connection (pinned), where they are what PostgreSQL left.
     */
    @Test
    void aRollbackToASavepointAfterATrackedSetPinsTheClient() throws Exception {
        try (RouterFixture fx = RouterFixture.start(RouterSettings.defaults().withPoolSize(2))) {
            try (Connection a = fx.connect(fx.rwPort, new Properties()); Connection b = fx.connect(fx.rwPort, new Properties())) {
                String defaultPath = text(b, "show search_path");
                a.setAutoCommit(false);
                try (Statement s = a.createStatement()) {
                    s.execute("set search_path = before_savepoint, public");
                    s.execute("savepoint sp");
                    s.execute("set search_path = after_savepoint, public");
                    s.execute("rollback to savepoint sp");
                }
                a.commit();
                a.setAutoCommit(true);
                int pinned = backendPid(a);
                for (int i = 0; i < 3; i++) {
                    assertEquals("before_savepoint, public", text(a, "show search_path"));
                    assertEquals(pinned, backendPid(a));
                    assertNotEquals(pinned, backendPid(b));
                    assertEquals(defaultPath, text(b, "show search_path"));
                }
            }
        }
    }

    /** A client's DISCARD ALL returns its tracked parameters to its startup values, as in PostgreSQL, on every connection after it. */
    @Test
    void discardAllReturnsTheTrackedParametersToTheStartupValues() throws Exception {
        try (RouterFixture fx = RouterFixture.start(RouterSettings.defaults().withPoolSize(1))) {
            Properties named = startupApplicationName("client-a");
            try (Connection a = fx.connect(fx.rwPort, named); Connection b = fx.connect(fx.rwPort, new Properties())) {
                String defaultPath = text(a, "show search_path");
                try (Statement s = a.createStatement()) {
                    s.execute("set search_path = before_discard, public");
                    s.execute("set application_name = 'renamed'");
                    s.execute("discard all");
                }
                for (int i = 0; i < 2; i++) {
                    assertEquals(defaultPath, text(a, "show search_path"));
                    assertEquals("client-a", text(a, "show application_name"));
                    assertEquals(defaultPath, text(b, "show search_path"));
                }
            }
        }
    }

    @Test
    void sessionPoolingKeepsStateForTheSessionAndResetsAfterwards() throws Exception {
        try (RouterFixture fx = RouterFixture.start(RouterSettings.defaults().withPoolMode(PoolMode.SESSION).withPoolSize(1))) {
            int pid;
            try (Connection a = fx.connect()) {
                try (Statement s = a.createStatement()) {
                    s.execute("set work_mem = '9MB'");
                }
                pid = backendPid(a);
                assertEquals("9MB", text(a, "show work_mem"));
                assertEquals(fx.primaryPort(), port(a, "select inet_server_port()"));
            }
            try (Connection b = fx.connect()) {
                assertEquals(pid, backendPid(b), "the one server connection was reused");
                assertEquals("4MB", text(b, "show work_mem"), "and reset with DISCARD ALL");
            }
        }
    }

    @Test
    void waitingClientsTimeOutWhenThePoolIsExhausted() throws Exception {
        try (RouterFixture fx = RouterFixture.start(RouterSettings.defaults().withPoolSize(1).withWaitTimeout(Duration.ofMillis(500)))) {
            try (Connection holder = fx.connect(fx.rwPort, new Properties()); Connection waiter = fx.connect(fx.rwPort, new Properties())) {
                holder.setAutoCommit(false);
                text(holder, "select 1");
                long t0 = System.nanoTime();
                SQLException e = assertThrows(SQLException.class, () -> text(waiter, "select 2"));
                long waited = (System.nanoTime() - t0) / 1_000_000;
                assertTrue(waited >= 400 && waited < 10_000, "waited " + waited + " ms");
                assertTrue(e.getMessage().contains("no server connection"), e.getMessage());
                holder.commit();
            }
            // a queued client gets the connection as soon as it is released
            try (Connection holder = fx.connect(fx.rwPort, new Properties()); Connection waiter = fx.connect(fx.rwPort, new Properties())) {
                holder.setAutoCommit(false);
                text(holder, "select 1");
                java.util.concurrent.CompletableFuture<String> queued = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
                    try {
                        return text(waiter, "select 'served'");
                    } catch (SQLException ex) {
                        return ex.getMessage();
                    }
                });
                await().atMost(Duration.ofSeconds(5)).until(() -> fx.router.pools().pools().stream().mapToInt(ServerPool::waiting).sum() == 1);
                holder.commit();
                assertEquals("served", queued.get(10, java.util.concurrent.TimeUnit.SECONDS));
            }
        }
    }

    @Test
    void maxClientConnectionsIsEnforced() throws Exception {
        try (RouterFixture fx = RouterFixture.start(RouterSettings.defaults().withMaxClientConnections(2));
             Connection a = fx.connect(); Connection b = fx.connect()) {
            SQLException e = assertThrows(SQLException.class, () -> fx.connect().close());
            assertEquals("53300", e.getSQLState());
            assertEquals("1", text(a, "select 1"));
            assertEquals("1", text(b, "select 1"));
        }
    }

    @Test
    void idleServerConnectionsAreClosed() throws Exception {
        try (RouterFixture fx = RouterFixture.start(RouterSettings.defaults().withIdleTimeout(Duration.ofMillis(300)))) {
            try (Connection c = fx.connect()) {
                text(c, "select 1");
                assertTrue(fx.router.pools().pools().stream().mapToInt(ServerPool::total).sum() >= 1);
                await().atMost(Duration.ofSeconds(10)).until(() -> fx.router.pools().pools().stream().mapToInt(ServerPool::total).sum() == 0);
                assertEquals("2", text(c, "select 2"), "the client still works and gets a fresh connection");
            }
        }
    }

    @Test
    void anUnreachableStandbyGetsNoReads() throws Exception {
        try (RouterFixture fx = RouterFixture.start(RouterSettings.defaults())) {
            ServerAddress dead = new ServerAddress("127.0.0.1", Ports.freePort());
            fx.topology.set(new Topology(new ServerAddress("127.0.0.1", fx.primaryPort()), List.of(dead)));
            try (Connection c = fx.connect()) {
                long t0 = System.nanoTime();
                for (int i = 0; i < 10; i++) {
                    assertEquals(fx.primaryPort(), port(c, "select inet_server_port()"));
                }
                assertTrue(System.nanoTime() - t0 < 2_000_000_000L, "excluded without waiting");
                assertTrue(fx.router.pools().isDown(dead));
            }
        }
    }

    @Test
    void aPrimaryChangeMovesNewTransactionsWithoutReconnecting() throws Exception {
        try (RouterFixture fx = RouterFixture.start(RouterSettings.defaults()); Connection c = fx.connect(fx.rwPort, new Properties())) {
            assertEquals(fx.primaryPort(), port(c, "select inet_server_port()"));
            ServerAddress oldPrimary = new ServerAddress("127.0.0.1", fx.primaryPort());
            ServerAddress newPrimary = new ServerAddress("127.0.0.1", fx.standbyPort());
            fx.topology.set(new Topology(newPrimary, List.of(oldPrimary)));
            assertEquals(fx.standbyPort(), port(c, "select inet_server_port()"));
        }
    }

    @Test
    void aServerDyingMidTransactionGivesTheClientAnErrorNotAHang() throws Exception {
        try (RouterFixture fx = RouterFixture.start(RouterSettings.defaults());
             Connection c = fx.connect(fx.rwPort, new Properties()); Connection admin = fx.cluster.primary.connect()) {
            c.setAutoCommit(false);
            int pid = backendPid(c);
            try (Statement s = admin.createStatement()) {
                s.execute("select pg_terminate_backend(" + pid + ")");
            }
            long t0 = System.nanoTime();
            assertThrows(SQLException.class, () -> text(c, "select 1"));
            assertTrue(System.nanoTime() - t0 < 10_000_000_000L);
            try (Connection again = fx.connect(fx.rwPort, new Properties())) {
                assertEquals("1", text(again, "select 1"));
            }
        }
    }

    @Test
    void pgbenchPreparedWithFourTimesMoreClientsThanServerConnections() throws Exception {
        // libpq's synchronous PQprepare must not need a server connection, or pgbench threads deadlock the pool
        try (RouterFixture fx = RouterFixture.start(RouterSettings.defaults().withPoolSize(4).withWaitTimeout(Duration.ofSeconds(10)))) {
            Tools.Result r = Tools.run(TestCluster.APP_PASSWORD, null, Tools.PGBENCH, "-n", "-h", "127.0.0.1", "-p",
                    Integer.toString(fx.rwPort), "-U", TestCluster.APP_USER, "-M", "prepared", "-c", "16", "-j", "2", "-t", "30", "postgres");
            assertEquals(0, r.exitCode(), r.output());
            assertTrue(r.output().contains("number of transactions actually processed: 480/480"), r.output());
            for (ServerPool p : fx.router.pools().pools()) {
                assertTrue(p.total() <= 4);
            }
        }
    }

    @Test
    void aReadTheStandbyRefusesIsRetriedOnThePrimary() throws Exception {
        // the router learns volatile functions only every hour here, so a new one looks like a read
        try (RouterFixture fx = RouterFixture.start(RouterSettings.defaults().withFunctionRefresh(Duration.ofHours(1)));
             Connection c = fx.connect()) {
            assertEquals(fx.standbyPort(), port(c, "select inet_server_port()"));
            for (TestCluster.Server pg : new TestCluster.Server[] {fx.cluster.primary, fx.cluster.standby}) {
                TestCluster.exec(pg, "CREATE OR REPLACE FUNCTION public.sneaky_write() RETURNS int LANGUAGE sql VOLATILE AS "
                        + "'INSERT INTO items(note) VALUES (''sneaky''); SELECT inet_server_port()'");
            }
            // simple and extended protocol, unnamed and named statements
            assertEquals(fx.primaryPort(), port(c, "select sneaky_write()"));
            Properties prepared = new Properties();
            prepared.setProperty("prepareThreshold", "1");
            try (Connection p = fx.connect(fx.port, prepared);
                 java.sql.PreparedStatement ps = p.prepareStatement("select sneaky_write() + 0 * ?")) {
                for (int i = 0; i < 3; i++) {
                    ps.setInt(1, i);
                    try (ResultSet rs = ps.executeQuery()) {
                        rs.next();
                        assertEquals(fx.primaryPort(), rs.getInt(1));
                    }
                }
            }
            Tools.Result r = Tools.run(TestCluster.APP_PASSWORD, null, Tools.PSQL, "-X", "-At", "-h", "127.0.0.1", "-p",
                    Integer.toString(fx.port), "-U", TestCluster.APP_USER, "-d", "postgres", "-c", "select sneaky_write()");
            assertEquals(0, r.exitCode(), r.output());
            assertEquals(Integer.toString(fx.primaryPort()), r.output().strip());
            assertEquals("5", TestCluster.scalar(fx.cluster.primary, "select count(*) from items where note = 'sneaky'"));
            // a real error on the standby is not retried
            SQLException e = assertThrows(SQLException.class, () -> text(c, "select 1/0"));
            assertEquals("22012", e.getSQLState());
            assertEquals(fx.standbyPort(), port(c, "select inet_server_port()"));
        }
    }

    @Test
    void pauseLetsTransactionsFinishQueuesNewOnesAndResumeRunsThemOnTheNewPrimary() throws Exception {
        try (RouterFixture fx = RouterFixture.start(RouterSettings.defaults());
             Connection inFlight = fx.connect(fx.rwPort, new Properties()); Connection later = fx.connect(fx.rwPort, new Properties())) {
            inFlight.setAutoCommit(false);
            assertEquals(fx.primaryPort(), port(inFlight, "select inet_server_port()"));
            java.util.concurrent.CompletableFuture<Void> drained = fx.router.pause().toCompletionStage().toCompletableFuture();
            java.util.concurrent.CompletableFuture<Integer> queued = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
                try {
                    return port(later, "select inet_server_port()");
                } catch (SQLException e) {
                    return -1;
                }
            });
            await().atMost(Duration.ofSeconds(5)).until(() -> fx.router.onLoopCount(fx.router::pausedTransactions) == 1);
            assertTrue(!drained.isDone(), "a transaction is still in flight");
            // the transaction in flight finishes on the old primary
            assertEquals(fx.primaryPort(), port(inFlight, "select inet_server_port()"));
            inFlight.commit();
            drained.get(5, java.util.concurrent.TimeUnit.SECONDS);
            assertTrue(!queued.isDone(), "new transactions wait while paused");
            fx.topology.set(new Topology(new ServerAddress("127.0.0.1", fx.standbyPort()), List.of()));
            fx.router.resume().toCompletionStage().toCompletableFuture().get(5, java.util.concurrent.TimeUnit.SECONDS);
            assertEquals(fx.standbyPort(), queued.get(10, java.util.concurrent.TimeUnit.SECONDS), "ran after resume on the new primary");
            assertEquals(fx.standbyPort(), port(inFlight, "select inet_server_port()"), "without reconnecting");
        }
    }

    @Test
    void adminConsoleShowsPoolsClientsServersAndPausesAndResumes() throws Exception {
        try (RouterFixture fx = RouterFixture.start(RouterSettings.defaults()); Connection app = fx.connect(fx.rwPort, new Properties())) {
            text(app, "select 1");
            String[] base = {Tools.PSQL, "-X", "-At", "-F", "|", "-h", "127.0.0.1", "-p", Integer.toString(fx.port), "-U", TestCluster.APP_USER, "-d", "pgha"};
            Tools.Result pools = Tools.run(TestCluster.APP_PASSWORD, null, concat(base, "-c", "SHOW POOLS"));
            assertEquals(0, pools.exitCode(), pools.output());
            assertTrue(pools.output().contains("postgres|app|127.0.0.1:" + fx.primaryPort() + "|0|0|1|1"), pools.output());
            Tools.Result clients = Tools.run(TestCluster.APP_PASSWORD, null, concat(base, "-c", "SHOW CLIENTS"));
            assertTrue(clients.output().contains("app|postgres|idle"), clients.output());
            assertTrue(clients.output().contains("app|pgha|admin"), clients.output());
            Tools.Result servers = Tools.run(TestCluster.APP_PASSWORD, null, concat(base, "-c", "SHOW SERVERS"));
            assertTrue(servers.output().contains("app|postgres|127.0.0.1:" + fx.primaryPort() + "|idle"), servers.output());
            Tools.Result stats = Tools.run(TestCluster.APP_PASSWORD, null, concat(base, "-c", "SHOW STATS"));
            assertEquals(0, stats.exitCode(), stats.output());
            Tools.Result pause = Tools.run(TestCluster.APP_PASSWORD, null, concat(base, "-c", "PAUSE"));
            assertEquals(0, pause.exitCode(), pause.output());
            java.util.concurrent.CompletableFuture<String> queued = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
                try {
                    return text(app, "select 'after resume'");
                } catch (SQLException e) {
                    return e.getMessage();
                }
            });
            await().atMost(Duration.ofSeconds(5)).until(() -> fx.router.onLoopCount(fx.router::pausedTransactions) == 1);
            Tools.Result resume = Tools.run(TestCluster.APP_PASSWORD, null, concat(base, "-c", "RESUME"));
            assertEquals(0, resume.exitCode(), resume.output());
            assertEquals("after resume", queued.get(10, java.util.concurrent.TimeUnit.SECONDS));
            Tools.Result unknown = Tools.run(TestCluster.APP_PASSWORD, null, concat(base, "-c", "DROP EVERYTHING"));
            assertTrue(unknown.exitCode() != 0 && unknown.output().contains("unknown admin command"), unknown.output());

            fx.cluster.createRole("not_admin", "na-secret");
            Tools.Result denied = Tools.run("na-secret", null, Tools.PSQL, "-X", "-At", "-h", "127.0.0.1", "-p", Integer.toString(fx.port),
                    "-U", "not_admin", "-d", "pgha", "-c", "SHOW POOLS");
            assertTrue(denied.exitCode() != 0 && denied.output().contains("may not use the admin console"), denied.output());
        }
    }

    private static String[] concat(String[] a, String... b) {
        String[] r = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }

    @Test
    void requiredServerTlsKeepsReadsOffAStandbyWithoutIt() throws Exception {
        try (RouterFixture fx = RouterFixture.start(RouterSettings.defaults().withServerTls(io.pgha.router.pool.ServerTls.REQUIRE));
             Connection c = fx.connect()) {
            assertEquals(fx.primaryPort(), port(c, "select inet_server_port()"));
            assertTrue(fx.router.onLoopCount(() -> fx.router.pools().isDown(new ServerAddress("127.0.0.1", fx.standbyPort())) ? 1 : 0) == 1);
        }
    }

    @Test
    void leastRecentlyUsedPreparedStatementsAreClosedBeyondTheMaximum() throws Exception {
        try (RouterFixture fx = RouterFixture.start(RouterSettings.defaults().withPoolSize(1).withMaxPreparedStatements(3))) {
            Properties p = new Properties();
            p.setProperty("prepareThreshold", "1");
            try (Connection c = fx.connect(fx.rwPort, p); Connection observer = fx.connect(fx.rwPort, new Properties())) {
                List<java.sql.PreparedStatement> statements = new java.util.ArrayList<>();
                for (int i = 0; i < 10; i++) {
                    statements.add(c.prepareStatement("select ?::int + " + i));
                }
                for (int round = 0; round < 5; round++) {
                    for (int i = 0; i < statements.size(); i++) {
                        statements.get(i).setInt(1, round);
                        try (ResultSet rs = statements.get(i).executeQuery()) {
                            rs.next();
                            assertEquals(round + i, rs.getInt(1));
                        }
                    }
                    c.setAutoCommit(false);
                    for (int i = 0; i < statements.size(); i++) {
                        statements.get(i).setInt(1, round);
                        try (ResultSet rs = statements.get(i).executeQuery()) {
                            rs.next();
                            assertEquals(round + i, rs.getInt(1));
                        }
                    }
                    c.commit();
                    c.setAutoCommit(true);
                }
                int held = Integer.parseInt(text(observer, "select count(*) from pg_prepared_statements where name like 'pgha\\_%'"));
                assertTrue(held > 0 && held <= 3, "server connection holds " + held + " router statements");
                for (java.sql.PreparedStatement ps : statements) {
                    ps.close();
                }
            }
        }
    }
}
