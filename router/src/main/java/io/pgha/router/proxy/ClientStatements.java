package io.pgha.router.proxy;

import io.pgha.router.routing.Classification;
import io.pgha.router.routing.Route;

import java.util.HashMap;
import java.util.Map;

/**
 * One client's named prepared statements: the text, parameter types and classification the client
 * gave them, under the server-side name that all clients preparing the same text share
 * ({@link StatementNames}). The session looks a Bind's or Describe's statement up here to route
 * the transaction it starts and to prepare the statement on a server connection that lacks it.
 * Pure state, on the router's event loop.
 */
final class ClientStatements {
    /** A named prepared statement of the client. */
    record Statement(String query, int[] parameterTypes, String serverName, Classification classification) {
    }

    private final StatementNames names;
    private final Map<String, Statement> statements = new HashMap<>();

    ClientStatements(StatementNames names) {
        this.names = names;
    }

    /** The client prepared {@code clientName} (again, replacing what it was): returns the statement as kept. */
    Statement define(String clientName, String query, int[] parameterTypes, Classification classification) {
        Statement s = new Statement(query, parameterTypes, names.nameFor(query, parameterTypes), classification);
        statements.put(clientName, s);
        return s;
    }

    /** The statement the client named so, or null (the unnamed statement is never kept: it lives on one server connection). */
    Statement get(String clientName) {
        return clientName.isEmpty() ? null : statements.get(clientName);
    }

    /** The client closed the statement: forgotten here (servers keep it for other clients). */
    void close(String clientName) {
        statements.remove(clientName);
    }

    /** Where a transaction that starts by using this statement may run; the primary for one the router does not know. */
    Route routeOf(String clientName) {
        Statement s = get(clientName);
        return s == null ? Route.PRIMARY : s.classification().route();
    }

    int size() {
        return statements.size();
    }
}
