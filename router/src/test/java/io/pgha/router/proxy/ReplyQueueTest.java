package io.pgha.router.proxy;

import io.pgha.router.protocol.PgMessages;
import io.pgha.router.protocol.PgProtocol.Backend;
import io.pgha.router.proxy.ReplyQueue.Expect;
import io.pgha.router.proxy.ReplyQueue.Reply;
import io.vertx.core.buffer.Buffer;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ReplyQueueTest {
    @Test
    void theRoutersOwnRepliesGoOutAfterTheRepliesToEverythingSentBefore() {
        ReplyQueue q = new ReplyQueue();
        Buffer closeComplete = PgMessages.closeComplete();
        assertFalse(q.synthetic(closeComplete), "nothing outstanding: the reply goes out at once");
        q.add(Expect.BIND);
        assertTrue(q.synthetic(closeComplete));
        List<Buffer> out = new ArrayList<>();
        q.drainSynthetic(out::add);
        assertTrue(out.isEmpty(), "the BindComplete comes first");
        assertEquals(Reply.FORWARD, q.answer(Backend.BIND_COMPLETE));
        q.drainSynthetic(out::add);
        assertEquals(List.of(closeComplete), out);
        assertTrue(q.isEmpty());
    }

    @Test
    void anErrorSkipsToTheSyncAndNamesTheStatementsThatWereNeverPrepared() {
        ReplyQueue q = new ReplyQueue();
        q.addParse("s1", true);
        q.add(Expect.BIND);
        q.addParse("s2", false);
        q.add(Expect.EXECUTE);
        q.add(Expect.SYNC);
        List<String> never = new ArrayList<>();
        q.skipToSync(never::add);
        assertEquals(List.of("s1", "s2"), never);
        assertEquals(Expect.SYNC, q.peek(), "everything up to the Sync is skipped");
        assertEquals(Reply.READY, q.answer(Backend.READY_FOR_QUERY));
        assertTrue(q.isEmpty());
    }

    @Test
    void oneRequestIsOneSyncOrOneQueryAtTheEnd() {
        ReplyQueue q = new ReplyQueue();
        q.add(Expect.QUERY_SWALLOW);
        q.add(Expect.QUERY);
        assertTrue(q.oneRequest(), "the router's own SET does not count");
        q.add(Expect.QUERY);
        assertFalse(q.oneRequest());
        q.clear();
        q.add(Expect.BIND);
        q.add(Expect.EXECUTE);
        assertFalse(q.oneRequest(), "no Sync yet");
        q.add(Expect.SYNC);
        assertTrue(q.oneRequest());
    }

    @Test
    void oneRequestFollowsTheRepliesAsTheyAreTaken() {
        ReplyQueue q = new ReplyQueue();
        q.add(Expect.QUERY);
        q.add(Expect.BIND);
        q.add(Expect.SYNC);
        assertFalse(q.oneRequest(), "a Query and a Sync");
        assertEquals(Reply.READY, q.answer(Backend.READY_FOR_QUERY));
        assertTrue(q.oneRequest(), "the Query is answered, the Sync is left");
        q.add(Expect.QUERY);
        q.skipToSync(s -> { });
        assertEquals(Reply.READY, q.answer(Backend.READY_FOR_QUERY), "the Sync's");
        assertTrue(q.oneRequest(), "only the last Query is left");
        assertEquals(Reply.READY, q.answer(Backend.READY_FOR_QUERY), "the Query's");
        assertFalse(q.oneRequest(), "nothing is left");
        assertTrue(q.isEmpty());
    }

    @Test
    void aSlippedInParseIsSwallowedAndTheClientsBatchEndsAtItsReadyForQuery() {
        ReplyQueue q = new ReplyQueue();
        // Bind of a statement the connection lacked: the router's Parse goes first
        q.addParse("s1", true);
        q.add(Expect.BIND);
        q.add(Expect.EXECUTE);
        q.add(Expect.SYNC);
        assertEquals(Reply.SWALLOW, q.answer(Backend.PARSE_COMPLETE));
        assertEquals(Reply.FORWARD, q.answer(Backend.BIND_COMPLETE));
        assertEquals(Reply.FORWARD, q.answer(Backend.DATA_ROW));
        assertEquals(Reply.FORWARD, q.answer(Backend.COMMAND_COMPLETE));
        assertEquals(Reply.READY, q.answer(Backend.READY_FOR_QUERY));
        assertTrue(q.isEmpty());
        // the client's own Parse is answered to the client
        q.addParse("s2", false);
        assertEquals(Reply.FORWARD, q.answer(Backend.PARSE_COMPLETE));
        q.add(Expect.CLOSE_SWALLOW);
        q.add(Expect.CLOSE);
        assertEquals(Reply.SWALLOW, q.answer(Backend.CLOSE_COMPLETE), "the Close that made room");
        assertEquals(Reply.FORWARD, q.answer(Backend.CLOSE_COMPLETE));
        assertTrue(q.isEmpty());
    }

    @Test
    void theRoutersOwnSetIsSwallowedUpToItsReadyForQueryAndItsErrorToldApart() {
        ReplyQueue q = new ReplyQueue();
        q.add(Expect.QUERY_SWALLOW);
        q.add(Expect.QUERY);
        assertEquals(Reply.SWALLOW, q.answer(Backend.COMMAND_COMPLETE));
        assertEquals(Reply.OWN_ERROR, q.answer(Backend.ERROR_RESPONSE));
        assertEquals(Reply.OWN_READY, q.answer(Backend.READY_FOR_QUERY));
        // the client's query: everything up to its ReadyForQuery, errors included, is the client's
        assertEquals(Reply.FORWARD, q.answer(Backend.ROW_DESCRIPTION));
        assertEquals(Reply.FORWARD, q.answer(Backend.ERROR_RESPONSE));
        assertFalse(q.isEmpty(), "a simple query ends at its ReadyForQuery only");
        assertEquals(Reply.READY, q.answer(Backend.READY_FOR_QUERY));
        assertTrue(q.isEmpty());
    }

    @Test
    void anErrorInABatchIsTheClientsAndLeavesTheSkippingToTheSession() {
        ReplyQueue q = new ReplyQueue();
        q.add(Expect.BIND);
        q.add(Expect.EXECUTE);
        q.add(Expect.SYNC);
        assertEquals(Reply.ERROR, q.answer(Backend.ERROR_RESPONSE));
        assertEquals(Expect.BIND, q.peek(), "nothing taken: the session skips, naming the statements never prepared");
        q.skipToSync(name -> { });
        assertEquals(Reply.READY, q.answer(Backend.READY_FOR_QUERY));
        assertTrue(q.isEmpty());
    }
}
