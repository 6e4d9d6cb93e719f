package io.pgha.router.proxy;

import io.pgha.router.pool.ServerParameters;
import io.pgha.router.protocol.PgProtocol.TxStatus;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SessionParametersTest {
    @Test
    void aNewConnectionGetsTheStartupValuesOnceAndThenNothing() {
        SessionParameters client = new SessionParameters(Map.of("application_name", "'app'"));
        ServerParameters server = new ServerParameters();
        assertEquals("SET application_name = 'app';", client.align(server));
        assertNull(client.align(server));
    }

    @Test
    void whatAnotherClientSetGoesBackToTheServersDefault() {
        ServerParameters server = new ServerParameters();
        SessionParameters a = new SessionParameters(Map.of());
        ran(a, "SET search_path = other, public", server);
        assertEquals("other, public", server.get("search_path"));

        SessionParameters b = new SessionParameters(Map.of());
        assertEquals("SET search_path TO DEFAULT;", b.align(server));
        assertNull(server.get("search_path"));
        assertEquals("SET search_path = other, public;", a.align(server), "a keeps its own value");
    }

    @Test
    void onlyWhatDiffersIsSet() {
        ServerParameters server = new ServerParameters();
        new SessionParameters(Map.of("timezone", "'UTC'", "application_name", "'a'")).align(server);
        String sql = new SessionParameters(Map.of("timezone", "'UTC'", "application_name", "'b'")).align(server);
        assertEquals("SET application_name = 'b';", sql);
    }

    @Test
    void aResetReturnsTheParameterToItsStartupValueOrTheServersDefault() {
        ServerParameters first = new ServerParameters();
        SessionParameters client = new SessionParameters(Map.of("search_path", "'app'"));
        client.align(first);
        ran(client, "SET search_path = other", first);
        ran(client, "RESET search_path", first);
        assertNull(first.get("search_path"), "the RESET left the server's default on this connection");
        assertEquals("SET search_path = 'app';", client.align(first), "the startup value comes back");

        ServerParameters other = new ServerParameters();
        other.set("search_path", "elsewhere");
        assertEquals("SET search_path = 'app';", client.align(other));

        SessionParameters plain = new SessionParameters(Map.of());
        ran(plain, "SET search_path = mine", other);
        ran(plain, "set search_path = default", other);
        assertNull(plain.align(other), "no startup value: the server's default, which the RESET left");
    }

    @Test
    void unknownParametersAreAllSetAgain() {
        ServerParameters server = new ServerParameters();
        SessionParameters client = new SessionParameters(Map.of("application_name", "'app'"));
        client.align(server);
        server.unknown();
        String sql = client.align(server);
        assertTrue(sql.startsWith("SET application_name = 'app';"), sql);
        for (String name : TrackedSet.PARAMETERS) {
            if (!name.equals("application_name")) {
                assertTrue(sql.contains("SET " + name + " TO DEFAULT;"), sql);
            }
        }
        assertTrue(server.known());
        assertNull(client.align(server));
    }

    @Test
    void aSetTakesEffectOnlyOnceItsTransactionCommits() {
        ServerParameters server = new ServerParameters();
        SessionParameters client = new SessionParameters(Map.of());
        client.relayed(TrackedSet.parse("SET timezone = 'UTC'"), 1);
        assertTrue(client.settle(TxStatus.IN_TRANSACTION, 1, server));
        assertNull(server.get("timezone"), "not before the commit");
        assertTrue(client.settle(TxStatus.IDLE, 2, server));
        assertEquals("'UTC'", server.get("timezone"));
        assertFalse(client.hasPending());
    }

    @Test
    void aFailedOrRolledBackTransactionKeepsNothing() {
        ServerParameters server = new ServerParameters();
        SessionParameters client = new SessionParameters(Map.of());
        client.relayed(TrackedSet.parse("SET timezone = 'No/Such_Zone'"), 0);
        client.failed(0);
        assertTrue(client.settle(TxStatus.IDLE, 0, server));
        assertNull(server.get("timezone"));
        assertNull(client.align(server), "the refused value is not set again");

        client.relayed(TrackedSet.parse("SET search_path = undone"), 2);
        assertTrue(client.settle(TxStatus.IN_TRANSACTION, 2, server));
        client.rolledBack(3);
        assertTrue(client.settle(TxStatus.IDLE, 3, server));
        assertNull(client.align(server));
    }

    @Test
    void aRollbackToASavepointLeavesTheSetsToTheServer() {
        ServerParameters server = new ServerParameters();
        SessionParameters client = new SessionParameters(Map.of());
        client.relayed(TrackedSet.parse("SET search_path = maybe"), 1);
        client.rolledBack(2);
        assertFalse(client.settle(TxStatus.IN_TRANSACTION, 2, server), "the client must stay on its connection");
        assertFalse(client.hasPending());
    }

    @Test
    void discardAllReturnsEveryParameterToItsStartupValue() {
        ServerParameters server = new ServerParameters();
        SessionParameters client = new SessionParameters(Map.of("application_name", "'app'"));
        client.align(server);
        ran(client, "SET application_name = 'renamed'", server);
        ran(client, "SET search_path = other", server);
        client.relayedDiscardAll(7);
        assertTrue(client.settle(TxStatus.IDLE, 7, server));
        server.reset();
        assertEquals("SET application_name = 'app';", client.align(server));
        assertTrue(TrackedSet.discardAll(" discard ALL ;"));
        assertFalse(TrackedSet.discardAll("discard plans"));
    }

    @Test
    void aPipelineSettlesEachSetWithItsOwnRequest() {
        ServerParameters server = new ServerParameters();
        SessionParameters client = new SessionParameters(Map.of());
        // request 0 fails; 1 sets search_path; 2 sets a zone the server refuses
        client.relayed(TrackedSet.parse("SET search_path = piped"), 1);
        client.relayed(TrackedSet.parse("SET timezone = 'No/Such_Zone'"), 2);
        client.failed(0);
        assertTrue(client.settle(TxStatus.IDLE, 0, server));
        assertTrue(client.hasPending(), "the later requests' SETs wait for theirs");
        assertTrue(client.settle(TxStatus.IDLE, 1, server));
        assertEquals("piped", server.get("search_path"));
        client.failed(2);
        assertTrue(client.settle(TxStatus.IDLE, 2, server));
        assertNull(server.get("timezone"));
        assertFalse(client.hasPending());
    }

    /** {@code sql} ran in autocommit on {@code server} and succeeded. */
    private static void ran(SessionParameters client, String sql, ServerParameters server) {
        client.relayed(TrackedSet.parse(sql), 0);
        assertTrue(client.settle(TxStatus.IDLE, 0, server));
    }
}
