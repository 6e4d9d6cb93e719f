package io.pgha.router.proxy;

import io.pgha.router.proxy.ClientStatements.Statement;
import io.pgha.router.routing.Classification;
import io.pgha.router.routing.Route;
import io.pgha.router.routing.StatementClassifier;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

class ClientStatementsTest {
    private static final StatementClassifier CLASSIFIER = new StatementClassifier();
    private static final int[] NO_TYPES = {};

    private static Classification classify(String sql) {
        return CLASSIFIER.classify(sql);
    }

    @Test
    void aStatementIsKeptUnderTheClientsNameWithWhatItWasPreparedAs() {
        ClientStatements statements = new ClientStatements(new StatementNames());
        String sql = "SELECT abalance FROM pgbench_accounts WHERE aid = $1";
        statements.define("P0_1", sql, new int[] {23}, classify(sql));
        Statement s = statements.get("P0_1");
        assertEquals(sql, s.query());
        assertArrayEquals(new int[] {23}, s.parameterTypes());
        assertEquals(Route.STANDBY_OK, statements.routeOf("P0_1"));
    }

    @Test
    void clientsPreparingTheSameTextShareOneServerSideName() {
        StatementNames names = new StatementNames();
        ClientStatements a = new ClientStatements(names);
        ClientStatements b = new ClientStatements(names);
        String sql = "SELECT 1";
        Statement fromA = a.define("S_1", sql, NO_TYPES, classify(sql));
        Statement fromB = b.define("other", sql, NO_TYPES, classify(sql));
        assertEquals(fromA.serverName(), fromB.serverName());
        Statement typed = b.define("typed", "SELECT $1", new int[] {23}, classify("SELECT $1"));
        Statement untyped = b.define("untyped", "SELECT $1", NO_TYPES, classify("SELECT $1"));
        assertNotEquals(typed.serverName(), untyped.serverName(), "other parameter types are another statement");
    }

    @Test
    void aWriteRoutesToThePrimaryAndAnUnknownOrClosedNameToo() {
        ClientStatements statements = new ClientStatements(new StatementNames());
        String update = "UPDATE pgbench_accounts SET abalance = abalance + $1 WHERE aid = $2";
        statements.define("u", update, NO_TYPES, classify(update));
        assertEquals(Route.PRIMARY, statements.routeOf("u"));
        assertEquals(Route.PRIMARY, statements.routeOf("never prepared"));
        statements.define("r", "SELECT 1", NO_TYPES, classify("SELECT 1"));
        statements.close("r");
        assertNull(statements.get("r"));
        assertEquals(Route.PRIMARY, statements.routeOf("r"), "a closed statement is unknown");
        assertEquals(1, statements.size());
    }

    @Test
    void preparingANameAgainReplacesItAndTheUnnamedStatementIsNeverKept() {
        ClientStatements statements = new ClientStatements(new StatementNames());
        statements.define("s", "SELECT 1", NO_TYPES, classify("SELECT 1"));
        statements.define("s", "DELETE FROM t", NO_TYPES, classify("DELETE FROM t"));
        assertEquals("DELETE FROM t", statements.get("s").query());
        assertEquals(Route.PRIMARY, statements.routeOf("s"));
        assertNull(statements.get(""));
    }
}
