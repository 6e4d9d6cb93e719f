package io.pgha.router.proxy;

import io.pgha.router.protocol.BackendMessages;
import io.pgha.router.protocol.MessageFramer;
import io.pgha.router.protocol.PgProtocol;
import io.pgha.router.protocol.PgProtocol.Backend;
import io.pgha.router.protocol.PgProtocol.SqlState;
import io.vertx.core.buffer.Buffer;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;

/**
 * A read sent to a standby can run again on the primary as long as the client has seen nothing
 * final of it: the standby may refuse it (read-only, a recovery conflict) or go away under it. While
 * that window is open (up to the standby's ReadyForQuery, see {@link #endsWindow}) the requests are
 * kept and the replies held back, both bounded: past a limit
 * the window closes, the held replies go out and the retry is given up, so a large request or a
 * flood of notices cannot grow a session without bound. Pure state; the session does the I/O.
 *
 * <p>Replies are held as the slices of the server's read they came in, which are valid only until
 * that read ends: most standby reads are answered whole in one read, up to the ReadyForQuery that
 * closes the window, and then go out without a copy of their own. Only replies still held when a
 * read ends ({@link #endOfRead()}) are copied.
 */
final class PrimaryRetry {
    /** Requests kept for a retry, at most. */
    static final int MAX_REQUEST_BYTES = 64 * 1024;
    /** Replies held back while a retry is possible, at most. */
    static final int MAX_HELD_BACK_BYTES = 64 * 1024;
    /** Standby errors after which a read, not yet answered, runs again on the primary. */
    private static final Set<String> RETRY_ON_PRIMARY = Set.of(SqlState.READ_ONLY_SQL_TRANSACTION,
            SqlState.SERIALIZATION_FAILURE, SqlState.ADMIN_SHUTDOWN, SqlState.CRASH_SHUTDOWN);

    /** The requests of the read, kept from one window to the next. */
    private final List<Buffer> requests = new ArrayList<>();
    private boolean open;
    private int requestBytes;
    /** Replies held from earlier reads, copied out of them. */
    private Buffer heldBack;
    /** Replies held from the read under way: slices of it. */
    private final List<Buffer> heldInRead = new ArrayList<>();
    private int heldBytes;
    /** The standby refused: its remaining replies are dropped until its ReadyForQuery. */
    private boolean refused;

    /** Opens the window for a standby read that starts with {@code pending}; false if they are already too many bytes. */
    boolean open(Iterable<Buffer> pending) {
        open = true;
        requests.clear();
        requestBytes = 0;
        dropHeld();
        refused = false;
        boolean kept = true;
        for (Buffer request : pending) {
            kept = record(request);
        }
        return kept;
    }

    boolean isOpen() {
        return open;
    }

    boolean isRefused() {
        return refused;
    }

    /** Keeps (a copy of) one more request of the read; false when they outgrow the limit and the window must close. */
    boolean record(Buffer request) {
        requestBytes += request.length();
        if (!open || requestBytes > MAX_REQUEST_BYTES) {
            return false;
        }
        // kept past the read it came in, until the standby's ReadyForQuery
        requests.add(MessageFramer.kept(request));
        return true;
    }

    /**
     * Holds one reply back, as it is (valid until the end of the read it came in); false when the
     * held replies outgrow the limit and the window must close.
     */
    boolean hold(Buffer reply) {
        heldInRead.add(reply);
        heldBytes += reply.length();
        return heldBytes <= MAX_HELD_BACK_BYTES;
    }

    /** The server's read ends and takes its memory along: what is still held is copied. */
    void endOfRead() {
        if (heldInRead.isEmpty()) {
            return;
        }
        if (heldBack == null) {
            heldBack = Buffer.buffer(Math.max(256, heldBytes));
        }
        for (Buffer reply : heldInRead) {
            heldBack.appendBuffer(reply);
        }
        heldInRead.clear();
    }

    /**
     * Closes the window: what the client sees from here on is final. The replies held go to
     * {@code out} in order (those of the read under way as the slices they are).
     */
    void close(Consumer<Buffer> out) {
        open = false;
        requests.clear();
        if (heldBack != null) {
            out.accept(heldBack);
        }
        for (Buffer reply : heldInRead) {
            out.accept(reply);
        }
        dropHeld();
    }

    private void dropHeld() {
        heldBack = null;
        heldInRead.clear();
        heldBytes = 0;
    }

    /** The standby refused the read: the replies held so far are dropped, so are its next ones. */
    void refuse() {
        refused = true;
        dropHeld();
    }

    /** The requests to run again on the primary, in order; the window closes. */
    List<Buffer> takeRequests() {
        List<Buffer> again = List.copyOf(requests);
        open = false;
        requests.clear();
        dropHeld();
        refused = false;
        return again;
    }

    /**
     * Whether the replies held back must go out before a reply of {@code type}. Always at the
     * ReadyForQuery that ends the read, and at a COPY response (the client has its part to play).
     * While what is outstanding is one whole request of the client ({@code wholeRequest}: it ends
     * with a Sync or is a simple Query, so the server goes on to its ReadyForQuery unasked) rows,
     * completions and errors are held too: the standby can still go away before it finishes, and
     * a PostgreSQL backend that is terminated or stopped sends what it had buffered (rows of a
     * statement that already ran, say) with its last message. Otherwise (a client that sent Flush
     * waits for these very replies, and such a read is not run again anyway) the first of them
     * ends the window.
     */
    static boolean endsWindow(byte type, boolean wholeRequest) {
        return switch (type) {
            case Backend.READY_FOR_QUERY, Backend.COPY_IN_RESPONSE, Backend.COPY_OUT_RESPONSE, Backend.COPY_BOTH_RESPONSE -> true;
            case Backend.PARSE_COMPLETE, Backend.BIND_COMPLETE, Backend.CLOSE_COMPLETE, Backend.PARAMETER_DESCRIPTION,
                 Backend.ROW_DESCRIPTION, Backend.NO_DATA, Backend.NOTICE_RESPONSE, Backend.PARAMETER_STATUS -> false;
            default -> !wholeRequest;
        };
    }

    /**
     * The standby refused as read-only (25006), cancelled for a recovery conflict (40001) or is going
     * away (57P01 shut down, 57P02 another backend crashed): the primary may well answer.
     */
    static boolean retryable(Buffer errorResponse) {
        return RETRY_ON_PRIMARY.contains(BackendMessages.errorFields(errorResponse).get(PgProtocol.ErrorField.CODE));
    }
}
