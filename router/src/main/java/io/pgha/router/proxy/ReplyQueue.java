package io.pgha.router.proxy;

import io.pgha.router.protocol.PgProtocol.Backend;
import io.vertx.core.buffer.Buffer;

import java.util.ArrayDeque;
import java.util.function.Consumer;

/**
 * The replies a session still expects from its server, in the order its requests went out, with
 * the replies the router makes up itself ({@link #synthetic}) placed among them. It tells the
 * session which server replies belong to the client and which answer the router's own requests
 * (a Parse slipped in before a Bind, a Close that makes room, a SET of session parameters) and are
 * swallowed. Pure state, on the router's event loop.
 */
final class ReplyQueue {
    enum Kind { QUERY, QUERY_SWALLOW, PARSE, PARSE_SWALLOW, BIND, DESCRIBE, EXECUTE, CLOSE, CLOSE_SWALLOW, SYNC, SYNTH }

    /** A request whose replies are still to come, or a reply the router makes up itself. */
    record Expect(Kind kind, String statement, Buffer synthetic) {
        static final Expect QUERY = new Expect(Kind.QUERY, null, null);
        static final Expect QUERY_SWALLOW = new Expect(Kind.QUERY_SWALLOW, null, null);
        static final Expect BIND = new Expect(Kind.BIND, null, null);
        static final Expect DESCRIBE = new Expect(Kind.DESCRIBE, null, null);
        static final Expect EXECUTE = new Expect(Kind.EXECUTE, null, null);
        static final Expect CLOSE = new Expect(Kind.CLOSE, null, null);
        static final Expect CLOSE_SWALLOW = new Expect(Kind.CLOSE_SWALLOW, null, null);
        static final Expect SYNC = new Expect(Kind.SYNC, null, null);
        static final Expect PARSE_UNNAMED = new Expect(Kind.PARSE, null, null);
    }

    /** What the session does with a server reply ({@link #answer}). */
    enum Reply {
        /** To the client. */
        FORWARD,
        /** The answer to the router's own request: the client never sees it. */
        SWALLOW,
        /** A client request failed: the server skips to the next Sync ({@link #skipToSync}); to the client. */
        ERROR,
        /** The router's own SET of session parameters failed. */
        OWN_ERROR,
        /** The end of a client request: to the client, and the transaction's status is known. */
        READY,
        /** The end of the router's own SET, which the client never sees. */
        OWN_READY
    }

    private final ArrayDeque<Expect> expects = new ArrayDeque<>();
    /**
     * Client requests that end in a ReadyForQuery (a Sync, a simple Query) queued and answered so
     * far: each request's number, from 0, and how many are outstanding, kept as requests come and
     * go, since {@link #oneRequest()} is asked for every server reply while a standby read may still
     * be retried.
     */
    private long queued;
    private long answered;

    void add(Expect e) {
        expects.add(e);
        if (endsRequest(e)) {
            queued++;
        }
    }

    /** The number the next client request queued will have. */
    long nextRequest() {
        return queued;
    }

    /** The number of the client request whose replies come now (after its ReadyForQuery: the next one's). */
    long currentRequest() {
        return answered;
    }

    /** A swallowed query is the router's own SET of session parameters, made again elsewhere: no client request. */
    private static boolean endsRequest(Expect e) {
        return e.kind() == Kind.SYNC || e.kind() == Kind.QUERY;
    }

    /** Takes the head (which must be there). */
    private Expect take() {
        Expect e = expects.poll();
        if (endsRequest(e)) {
            answered++;
        }
        return e;
    }

    /** A Parse of the named server-side statement, whose ParseComplete the client sees ({@code swallow} false) or not. */
    void addParse(String serverName, boolean swallow) {
        expects.add(new Expect(swallow ? Kind.PARSE_SWALLOW : Kind.PARSE, serverName, null));
    }

    /**
     * A reply the router gives itself, placed after the replies to everything sent before; returns
     * false when nothing is outstanding, and the reply can go to the client at once.
     */
    boolean synthetic(Buffer reply) {
        if (expects.isEmpty()) {
            return false;
        }
        expects.add(new Expect(Kind.SYNTH, null, reply));
        return true;
    }

    /** The router's own replies now at the head, in order, each given to {@code forward}. */
    void drainSynthetic(Consumer<Buffer> forward) {
        while (!expects.isEmpty() && expects.peek().kind() == Kind.SYNTH) {
            forward.accept(take().synthetic());
        }
    }

    Expect peek() {
        return expects.peek();
    }

    boolean isEmpty() {
        return expects.isEmpty();
    }

    /** Drops everything outstanding: the requests dropped count as answered (they are queued again elsewhere). */
    void clear() {
        expects.clear();
        answered = queued;
    }

    /** Takes the head if it is of {@code kind}; null otherwise. */
    private Expect pop(Kind kind) {
        Expect e = expects.peek();
        return e != null && e.kind() == kind ? take() : null;
    }

    /** Takes the head if it is of either kind; null otherwise. */
    private Expect pop(Kind kind, Kind other) {
        Expect e = expects.peek();
        return e != null && (e.kind() == kind || e.kind() == other) ? take() : null;
    }

    /**
     * A server reply, matched with the request it answers: that request leaves the queue once its
     * last reply has come. An ErrorResponse to a client request leaves the skipping to the caller,
     * which knows the connection's statements.
     */
    Reply answer(byte type) {
        Expect head = expects.peek();
        if (head != null && (head.kind() == Kind.QUERY || head.kind() == Kind.QUERY_SWALLOW)) {
            boolean clients = head.kind() == Kind.QUERY;
            if (type == Backend.READY_FOR_QUERY) {
                take();
                return clients ? Reply.READY : Reply.OWN_READY;
            }
            if (clients) {
                return Reply.FORWARD;
            }
            return type == Backend.ERROR_RESPONSE ? Reply.OWN_ERROR : Reply.SWALLOW;
        }
        return switch (type) {
            case Backend.PARSE_COMPLETE -> swallowedIf(pop(Kind.PARSE, Kind.PARSE_SWALLOW), Kind.PARSE_SWALLOW);
            case Backend.BIND_COMPLETE -> forwardAfter(Kind.BIND);
            case Backend.ROW_DESCRIPTION, Backend.NO_DATA -> forwardAfter(Kind.DESCRIBE);
            case Backend.COMMAND_COMPLETE, Backend.EMPTY_QUERY_RESPONSE, Backend.PORTAL_SUSPENDED -> forwardAfter(Kind.EXECUTE);
            case Backend.CLOSE_COMPLETE -> swallowedIf(pop(Kind.CLOSE, Kind.CLOSE_SWALLOW), Kind.CLOSE_SWALLOW);
            case Backend.ERROR_RESPONSE -> Reply.ERROR;
            case Backend.READY_FOR_QUERY -> {
                pop(Kind.SYNC);
                yield Reply.READY;
            }
            default -> Reply.FORWARD;
        };
    }

    /** The last reply to a request of {@code kind}, always the client's: the request leaves the queue. */
    private Reply forwardAfter(Kind kind) {
        pop(kind);
        return Reply.FORWARD;
    }

    /** The last reply to a request the router may have made itself ({@code answered}: taken already, or null when not expected). */
    private static Reply swallowedIf(Expect answered, Kind swallowed) {
        return answered != null && answered.kind() == swallowed ? Reply.SWALLOW : Reply.FORWARD;
    }

    /**
     * After an ErrorResponse the server skips everything up to the next Sync: drops what was
     * expected up to it, naming each server-side statement whose Parse therefore never ran.
     */
    void skipToSync(Consumer<String> neverPrepared) {
        while (!expects.isEmpty() && expects.peek().kind() != Kind.SYNC) {
            Expect skipped = take();
            if ((skipped.kind() == Kind.PARSE || skipped.kind() == Kind.PARSE_SWALLOW) && skipped.statement() != null) {
                neverPrepared.accept(skipped.statement());
            }
        }
    }

    /**
     * What is outstanding is one request of the client (one Sync, or one simple Query, possibly
     * after the router's own requests), so that it can be sent again elsewhere as it is.
     */
    boolean oneRequest() {
        Expect last = expects.peekLast();
        return queued - answered == 1 && last != null && endsRequest(last);
    }
}
