package io.pgha.router.proxy;

import io.pgha.router.pool.ServerParameters;
import io.pgha.router.protocol.PgMessages;
import io.pgha.router.protocol.PgProtocol.Backend;
import io.pgha.router.protocol.PgProtocol.TxStatus;
import io.pgha.router.routing.StatementClassifier;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SessionStateTest {
    private final StatementClassifier classifier = new StatementClassifier();
    private final ServerParameters server = new ServerParameters();
    private long request;

    /** One autocommit request: the statement, then the server's CommandComplete and ReadyForQuery. */
    private void ran(SessionState state, String sql) {
        state.sent(classifier.classify(sql), sql, request);
        state.ready(TxStatus.IDLE, request++, server);
    }

    @Test
    void aTrackedSetIsFollowedAndPinsNothing() {
        SessionState state = new SessionState(new SessionParameters(Map.of()), true);
        ran(state, "SET search_path = app, public");
        assertFalse(state.pinned());
        assertEquals("app, public", server.get("search_path"));
    }

    @Test
    void otherSessionStatePinsInTransactionPoolingOnly() {
        SessionState transaction = new SessionState(new SessionParameters(Map.of()), true);
        ran(transaction, "SET work_mem = '64MB'");
        assertTrue(transaction.pinned());

        SessionState session = new SessionState(new SessionParameters(Map.of()), false);
        ran(session, "LISTEN jobs");
        assertFalse(session.pinned(), "in session pooling the client keeps its connection anyway");
    }

    @Test
    void aRollbackToASavepointAfterATrackedSetPins() {
        SessionState state = new SessionState(new SessionParameters(Map.of()), true);
        state.sent(classifier.classify("SET search_path = maybe"), "SET search_path = maybe", 0);
        state.ready(TxStatus.IN_TRANSACTION, 0, server);
        assertTrue(state.following());
        state.replied(Backend.COMMAND_COMPLETE, PgMessages.commandComplete("ROLLBACK"), 1);
        state.ready(TxStatus.IN_TRANSACTION, 1, server);
        assertTrue(state.pinned());
        assertFalse(state.following());
    }

    @Test
    void anErrorUndoesTheSetOfItsRequest() {
        SessionState state = new SessionState(new SessionParameters(Map.of()), true);
        state.sent(classifier.classify("SET timezone = 'No/Such_Zone'"), "SET timezone = 'No/Such_Zone'", 0);
        state.replied(Backend.ERROR_RESPONSE, PgMessages.errorResponse("ERROR", "22023", "invalid value"), 0);
        state.ready(TxStatus.IDLE, 0, server);
        assertNull(server.get("timezone"));
        assertNull(state.align(server), "nothing to set again");
    }

    @Test
    void aNamedStatementCountsEachTimeItIsBound() {
        SessionState state = new SessionState(new SessionParameters(Map.of()), true);
        ClientStatements statements = new ClientStatements(new StatementNames());
        ClientStatements.Statement set = named(statements, "s1", "SET search_path = later");
        state.bound(set, 0);
        state.ready(TxStatus.IDLE, 0, server);
        assertEquals("later", server.get("search_path"));
        assertFalse(state.pinned());

        state.bound(named(statements, "d", "DISCARD ALL"), 1);
        state.ready(TxStatus.IDLE, 1, server);
        assertTrue(state.takeDiscarded(), "the connection it ran on holds no statements and default parameters");

        state.bound(named(statements, "w", "SET work_mem = '64MB'"), 2);
        assertTrue(state.pinned());
    }

    private ClientStatements.Statement named(ClientStatements statements, String name, String sql) {
        return statements.define(name, sql, new int[0], classifier.classify(sql));
    }

    @Test
    void aDiscardIsReportedOnceAndDiscardAllReturnsToTheStartupValues() {
        SessionState state = new SessionState(new SessionParameters(Map.of("application_name", "'app'")), true);
        assertEquals("SET application_name = 'app';", state.align(server));
        ran(state, "SET application_name = 'renamed'");
        ran(state, "DISCARD ALL");
        assertTrue(state.takeDiscarded());
        assertFalse(state.takeDiscarded());
        server.unknown();
        assertTrue(state.align(server).startsWith("SET application_name = 'app';"));
        assertFalse(state.pinned());
    }
}
