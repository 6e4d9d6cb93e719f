package io.pgha.router.proxy;

import io.pgha.router.protocol.PgMessages;
import io.pgha.router.proxy.ReplyQueue.Expect;
import io.pgha.router.proxy.ReplyQueue.Kind;
import io.vertx.core.buffer.Buffer;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
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
        assertEquals(Expect.BIND, q.pop(Kind.BIND));
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
        assertNull(q.pop(Kind.EXECUTE));
        assertEquals(Expect.SYNC, q.pop(Kind.SYNC));
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
        assertEquals(Expect.QUERY, q.poll());
        assertTrue(q.oneRequest(), "the Query is answered, the Sync is left");
        q.add(Expect.QUERY);
        q.skipToSync(s -> { });
        assertEquals(Expect.SYNC, q.pop(Kind.SYNC));
        assertTrue(q.oneRequest(), "only the last Query is left");
        assertEquals(Expect.QUERY, q.pop(Kind.QUERY));
        assertFalse(q.oneRequest(), "nothing is left");
        assertNull(q.poll());
    }
}
