package io.pgha.router.proxy;

import io.pgha.router.pool.ServerParameters;
import io.pgha.router.protocol.PgProtocol;

import java.util.ArrayDeque;
import java.util.LinkedHashMap;
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
 * <p>A RESET (or {@code SET name TO DEFAULT}) returns the parameter to the value of the client's
 * startup packet, as in PostgreSQL, or to the server's default when it sent none. Server
 * connections are opened without the clients' values, so the RESET itself leaves the server's
 * default on the connection it runs on: the startup value comes back from the client's next
 * transaction, when the connection is aligned again.
 */
final class SessionParameters {
    private static final String DEFAULT = "DEFAULT";

    private final Map<String, String> startup;
    private final Map<String, String> values;
    /** Tracked SETs relayed and not yet settled, in order, each with the number of the client request it is part of. */
    private final ArrayDeque<Pending> pending = new ArrayDeque<>();
    /** The last request whose transaction failed (an error, a rollback): the SETs up to it will not hold. */
    private long failedThrough = -1;
    /** The last request that ran a ROLLBACK (of the transaction, or to one of its savepoints). */
    private long rolledBackIn = -1;

    private record Pending(TrackedSet.Assignment assignment, long request) {
    }

    /** @param startup the parameters of the startup packet, as SQL literals ({@link TrackedSet#literal}) */
    SessionParameters(Map<String, String> startup) {
        this.startup = Map.copyOf(startup);
        this.values = new LinkedHashMap<>(startup);
    }

    /**
     * A tracked SET or RESET the client sent to its server, as part of client request number
     * {@code request} (requests are counted as their Syncs and simple Queries go out): it takes
     * effect if its transaction commits.
     */
    void relayed(TrackedSet.Assignment assignment, long request) {
        pending.add(new Pending(assignment, request));
    }

    /**
     * A DISCARD ALL the client sent: every parameter back to its startup value, or the server's
     * default, as after a RESET of each. (The session marks the connection's parameters unknown
     * afterwards, as after any DISCARD.)
     */
    void relayedDiscardAll(long request) {
        for (String name : TrackedSet.PARAMETERS) {
            relayed(new TrackedSet.Assignment(name, DEFAULT), request);
        }
    }

    /** Whether a tracked SET waits for the end of its transaction. */
    boolean hasPending() {
        return !pending.isEmpty();
    }

    /** A statement of request {@code request} failed: its transaction will not keep the SETs sent up to it. */
    void failed(long request) {
        failedThrough = request;
    }

    /** Request {@code request} ran a ROLLBACK, of its transaction or to one of its savepoints. */
    void rolledBack(long request) {
        failedThrough = request;
        rolledBackIn = request;
    }

    /**
     * Request {@code request} has ended, and the server is ready for the next, with this
     * transaction status. Out of the transaction, the SETs sent up to that request take effect, on
     * the client and on {@code server}, unless it failed; inside it they wait. Returns false when a
     * rollback to a savepoint leaves unknown which of them the transaction still holds: they are
     * forgotten, and the client must stay on this connection. SETs of later requests (a pipeline)
     * wait for theirs.
     */
    boolean settle(byte status, long request, ServerParameters server) {
        if (status == PgProtocol.TxStatus.IDLE) {
            while (!pending.isEmpty() && pending.peek().request() <= request) {
                Pending p = pending.poll();
                if (p.request() > failedThrough) {
                    apply(p.assignment(), server);
                }
            }
            return true;
        }
        if (rolledBackIn == request) {
            pending.removeIf(p -> p.request() <= request);
            return false;
        }
        return true;
    }

    private void apply(TrackedSet.Assignment a, ServerParameters server) {
        boolean reset = DEFAULT.equalsIgnoreCase(a.value());
        String value = reset ? startup.get(a.name()) : a.value();
        if (value == null) {
            values.remove(a.name());
        } else {
            values.put(a.name(), value);
        }
        server.set(a.name(), reset ? null : a.value());
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
