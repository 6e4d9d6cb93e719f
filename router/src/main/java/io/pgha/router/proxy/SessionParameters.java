package io.pgha.router.proxy;

import io.pgha.router.pool.ServerParameters;
import io.pgha.router.protocol.PgProtocol;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One client's tracked session parameters ({@link TrackedSet#PARAMETERS}), as SQL text: those
 * it sent in its startup packet, then what its tracked SETs and RESETs made of them. A parameter
 * it never set is absent and means the server's default; so a connection lent to it gets back to
 * that default whatever the clients before it set there (search_path above all).
 *
 * <p>A tracked SET takes effect as in PostgreSQL: once its transaction has committed (at once in
 * autocommit). Until then it is pending; an error or a rollback before the end drops it, on the
 * client and on the connection it ran on, where the server undid it too.
 *
 * <p>A RESET (or {@code SET name TO DEFAULT}) returns the parameter to the server's default, also
 * when the client had sent a value in its startup packet: server connections are opened without
 * the clients' values, so the server's default is what the RESET leaves on the connection it runs
 * on, and the router keeps the client there on every other one.
 */
final class SessionParameters {
    private static final String DEFAULT = "DEFAULT";

    private final Map<String, String> startup;
    private final Map<String, String> values;
    /** Tracked SETs relayed in the transaction now running, in order; they take effect if it commits. */
    private final List<TrackedSet.Assignment> pending = new ArrayList<>();
    /** An error or a rollback since the first pending SET: the transaction will not keep them. */
    private boolean pendingFailed;
    /** A ROLLBACK since the first pending SET: inside the transaction, a rollback to a savepoint. */
    private boolean rolledBack;

    /** @param startup the parameters of the startup packet, as SQL literals ({@link TrackedSet#literal}) */
    SessionParameters(Map<String, String> startup) {
        this.startup = Map.copyOf(startup);
        this.values = new LinkedHashMap<>(startup);
    }

    /** A tracked SET or RESET the client sent to its server: it takes effect if its transaction commits. */
    void relayed(TrackedSet.Assignment assignment) {
        pending.add(assignment);
    }

    /**
     * A DISCARD ALL the client sent: every parameter back to its startup value, or the server's
     * default. (The connection it ran on is left at the server's defaults, so the session marks its
     * parameters unknown afterwards, as after any DISCARD.)
     */
    void relayedDiscardAll() {
        for (String name : TrackedSet.PARAMETERS) {
            pending.add(new TrackedSet.Assignment(name, startup.getOrDefault(name, DEFAULT)));
        }
    }

    /** Whether a tracked SET waits for the end of its transaction. */
    boolean hasPending() {
        return !pending.isEmpty();
    }

    /** A statement of the pending SETs' transaction failed: it will not keep them. */
    void failed() {
        pendingFailed = true;
    }

    /** A ROLLBACK (of the transaction, or to one of its savepoints) since the pending SETs. */
    void rolledBack() {
        pendingFailed = true;
        rolledBack = true;
    }

    /**
     * The server is ready for the next query, with this transaction status. Out of the transaction,
     * the pending SETs take effect, on the client and on {@code server}, unless it failed; inside it
     * they wait. Returns false when a rollback to a savepoint leaves unknown which of them the
     * transaction still holds: they are forgotten, and the client must stay on this connection.
     */
    boolean settle(byte status, ServerParameters server) {
        if (status == PgProtocol.TxStatus.IDLE) {
            if (!pendingFailed) {
                for (TrackedSet.Assignment a : pending) {
                    String value = valueOf(a);
                    if (value == null) {
                        values.remove(a.name());
                    } else {
                        values.put(a.name(), value);
                    }
                    server.set(a.name(), value);
                }
            }
            forgetPending();
            return true;
        }
        if (rolledBack) {
            forgetPending();
            return false;
        }
        return true;
    }

    private void forgetPending() {
        pending.clear();
        pendingFailed = false;
        rolledBack = false;
    }

    /** The value as SQL text; null for a RESET or {@code SET ... TO DEFAULT}, the server's default. */
    private static String valueOf(TrackedSet.Assignment a) {
        return DEFAULT.equalsIgnoreCase(a.value()) ? null : a.value();
    }

    /**
     * The SETs that bring a lent connection to this client's parameters, which it then holds; null
     * when it holds them already.
     */
    String align(ServerParameters server) {
        if (server.are(values)) {
            return null;
        }
        StringBuilder sql = new StringBuilder();
        values.forEach((name, value) -> {
            if (!server.known() || !value.equals(server.get(name))) {
                sql.append("SET ").append(name).append(" = ").append(value).append(';');
            }
        });
        for (String name : server.known() ? server.names() : TrackedSet.PARAMETERS) {
            if (!values.containsKey(name)) {
                sql.append("SET ").append(name).append(" TO DEFAULT;");
            }
        }
        server.setAll(values);
        return sql.toString();
    }
}
