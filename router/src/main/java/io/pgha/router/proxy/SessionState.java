package io.pgha.router.proxy;

import io.pgha.router.pool.ServerParameters;
import io.pgha.router.protocol.BackendMessages;
import io.pgha.router.protocol.PgProtocol.Backend;
import io.pgha.router.routing.Classification;
import io.vertx.core.buffer.Buffer;

/**
 * What a client's statements do to the server session it is lent. A tracked SET or RESET and a
 * DISCARD ALL are followed ({@link SessionParameters}); in transaction pooling any other session
 * state pins the client to its connection, as does a rollback to a savepoint after a tracked SET;
 * after a DISCARD or DEALLOCATE the router no longer knows what the connection holds. The session
 * tells it what it relays and what the server answers; it decides and writes nothing. Requests
 * are numbered as in {@link ReplyQueue}.
 */
final class SessionState {
    /** The command tag of ROLLBACK, of ROLLBACK TO SAVEPOINT, and of a COMMIT that ended a failed transaction. */
    private static final String ROLLBACK_TAG = "ROLLBACK";

    private final SessionParameters parameters;
    private final boolean transactionPooling;
    private boolean pinned;
    /** A DISCARD or DEALLOCATE was sent and its connection has not been marked unknown since. */
    private boolean discarded;

    SessionState(SessionParameters parameters, boolean transactionPooling) {
        this.parameters = parameters;
        this.transactionPooling = transactionPooling;
    }

    /** A lone SET or RESET of a tracked parameter: followed rather than pinning. */
    static boolean trackedSet(Classification c, String sql) {
        return c.sessionState() && TrackedSet.parse(sql) != null;
    }

    /** A statement relayed as part of request {@code request}: a Query, or an unnamed Parse (bound right after it). */
    void sent(Classification c, String sql, long request) {
        if (c.sessionState()) {
            TrackedSet.Assignment set = TrackedSet.parse(sql);
            if (set != null) {
                parameters.relayed(set, request);
                return;
            }
        }
        if (c.discardsSession() && TrackedSet.discardAll(sql)) {
            parameters.relayedDiscardAll(request);
        }
        noted(c);
    }

    /**
     * A Bind of one of the client's named statements, as part of request {@code request}: what the
     * statement does to the session counts each time it runs, not when it is prepared (it may run
     * later, or again without a Parse).
     */
    void bound(ClientStatements.Statement statement, long request) {
        sent(statement.classification(), statement.query(), request);
    }

    private void noted(Classification c) {
        if (c.sessionState() && transactionPooling) {
            pinned = true;
        }
        if (c.discardsSession()) {
            discarded = true;
        }
    }

    /** Whether a server reply can still change what the tracked SETs sent do (one waits for its transaction). */
    boolean following() {
        return parameters.hasPending();
    }

    /** A reply of the server to request {@code request}: an error or a ROLLBACK undoes the SETs of its transaction. */
    void replied(byte type, Buffer message, long request) {
        if (type == Backend.ERROR_RESPONSE) {
            parameters.failed(request);
        } else if (type == Backend.COMMAND_COMPLETE && ROLLBACK_TAG.equals(BackendMessages.commandTag(message))) {
            parameters.rolledBack(request);
        }
    }

    /**
     * The ReadyForQuery that ends request {@code request}, with this transaction status: the SETs
     * up to it take effect on the client and on {@code server}, or, after a rollback to a
     * savepoint that leaves unknown which still hold, the client is pinned.
     */
    void ready(byte status, long request, ServerParameters server) {
        if (parameters.hasPending() && !parameters.settle(status, request, server)) {
            pinned = true;
        }
    }

    /** Whether a DISCARD has run since last asked: the connection's statements and parameters are then unknown. */
    boolean takeDiscarded() {
        boolean d = discarded;
        discarded = false;
        return d;
    }

    /** The client stays on its server connection until it leaves. */
    boolean pinned() {
        return pinned;
    }

    /** The SETs that bring a lent connection to the client's parameters; null when it holds them. */
    String align(ServerParameters server) {
        return parameters.align(server);
    }
}
