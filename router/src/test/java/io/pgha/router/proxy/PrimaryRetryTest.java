package io.pgha.router.proxy;

import io.pgha.router.protocol.PgMessages;
import io.pgha.router.protocol.PgProtocol.Backend;
import io.pgha.router.protocol.PgProtocol.SqlState;
import io.vertx.core.buffer.Buffer;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PrimaryRetryTest {
    private static final Buffer QUERY = PgMessages.query("select 1");

    @Test
    void keepsTheRequestsInOrderForTheRetryAndDropsWhatTheStandbyAnswered() {
        PrimaryRetry retry = new PrimaryRetry();
        Buffer second = PgMessages.query("select 2");
        assertTrue(retry.open(List.of(QUERY)));
        assertTrue(retry.record(second));
        assertTrue(retry.hold(PgMessages.parseComplete()));
        retry.refuse();
        assertTrue(retry.isRefused());
        assertEquals(List.of(QUERY, second), retry.takeRequests());
        assertFalse(retry.isOpen());
        assertFalse(retry.isRefused());
        assertEquals(0, closed(retry).length(), "the refused standby's replies never reach the client");
    }

    @Test
    void requestsBeyondTheLimitCloseTheWindow() {
        PrimaryRetry retry = new PrimaryRetry();
        Buffer big = PgMessages.query("x".repeat(PrimaryRetry.MAX_REQUEST_BYTES));
        assertFalse(retry.open(List.of(QUERY, big)));
        PrimaryRetry later = new PrimaryRetry();
        assertTrue(later.open(List.of(QUERY)));
        assertFalse(later.record(big));
    }

    @Test
    void heldRepliesAreBoundedAndGoOutWhenTheWindowCloses() {
        PrimaryRetry retry = new PrimaryRetry();
        retry.open(List.of(QUERY));
        Buffer notice = PgMessages.errorResponse("NOTICE", "00000", "n".repeat(1000));
        int held = 0;
        while (retry.hold(notice)) {
            held++;
        }
        assertTrue(held * notice.length() <= PrimaryRetry.MAX_HELD_BACK_BYTES, "held " + held);
        Buffer out = closed(retry);
        assertEquals((held + 1) * notice.length(), out.length(), "everything held goes out, nothing is lost");
        assertFalse(retry.isOpen());
    }

    @Test
    void onlyFinalRepliesEndTheWindowAndOnlyStandbyRefusalsAreRetried() {
        assertFalse(PrimaryRetry.endsWindow(Backend.NOTICE_RESPONSE, false));
        assertFalse(PrimaryRetry.endsWindow(Backend.ROW_DESCRIPTION, false));
        assertTrue(PrimaryRetry.endsWindow(Backend.DATA_ROW, false));
        assertTrue(PrimaryRetry.endsWindow(Backend.READY_FOR_QUERY, false));
        assertTrue(PrimaryRetry.retryable(PgMessages.errorResponse("ERROR", SqlState.READ_ONLY_SQL_TRANSACTION, "read-only")));
        assertTrue(PrimaryRetry.retryable(PgMessages.errorResponse("FATAL", SqlState.ADMIN_SHUTDOWN, "shutting down")));
        assertFalse(PrimaryRetry.retryable(PgMessages.errorResponse("ERROR", "42P01", "no such table")));
    }

    @Test
    void withAWholeRequestOutstandingOnlyItsReadyForQueryOrACopyEndsTheWindow() {
        for (byte held : new byte[]{Backend.DATA_ROW, Backend.COMMAND_COMPLETE, Backend.EMPTY_QUERY_RESPONSE,
                Backend.PORTAL_SUSPENDED, Backend.ERROR_RESPONSE, Backend.NOTICE_RESPONSE}) {
            assertFalse(PrimaryRetry.endsWindow(held, true), "'" + (char) held + "' is held until the standby's ReadyForQuery");
        }
        for (byte ends : new byte[]{Backend.READY_FOR_QUERY, Backend.COPY_IN_RESPONSE, Backend.COPY_OUT_RESPONSE, Backend.COPY_BOTH_RESPONSE}) {
            assertTrue(PrimaryRetry.endsWindow(ends, true), "'" + (char) ends + "' goes out with what was held");
        }
    }

    @Test
    void repliesStillHeldWhenTheServersReadEndsAreCopiedAndGoOutInOrder() {
        PrimaryRetry retry = new PrimaryRetry();
        retry.open(List.of(QUERY));
        Buffer read = Buffer.buffer().appendBuffer(PgMessages.parseComplete()).appendBuffer(PgMessages.closeComplete());
        Buffer first = read.slice(0, PgMessages.parseComplete().length());
        assertTrue(retry.hold(first));
        retry.endOfRead();
        // the read's memory is reused for the next one: what was held must not change with it
        read.setByte(0, (byte) 'x');
        assertTrue(retry.hold(PgMessages.closeComplete()));
        assertEquals(Buffer.buffer().appendBuffer(PgMessages.parseComplete()).appendBuffer(PgMessages.closeComplete()), closed(retry));
    }

    /** Closes the window and returns what it forwards, concatenated. */
    private static Buffer closed(PrimaryRetry retry) {
        Buffer out = Buffer.buffer();
        retry.close(out::appendBuffer);
        return out;
    }
}
