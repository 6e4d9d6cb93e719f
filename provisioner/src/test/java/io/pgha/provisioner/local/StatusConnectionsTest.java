package io.pgha.provisioner.local;

import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

class StatusConnectionsTest {
    private final AtomicLong now = new AtomicLong(1_000_000_000L);
    private final StatusConnections connections = new StatusConnections(now::get);

    @Test
    void theSameConnectionsServeOneCallAfterAnother() {
        KeptConnections first = connections.use(k -> k);
        now.addAndGet(StatusConnections.IDLE.toNanos() - 1);
        assertSame(first, connections.use(k -> k));
    }

    @Test
    void theyAreClosedOnceNoCallCameForTheIdleTime() {
        assertFalse(connections.closeIfIdle(), "nothing was opened yet");
        assertEquals("answer", connections.use(k -> "answer"));
        now.addAndGet(StatusConnections.IDLE.toNanos() - 1);
        assertFalse(connections.closeIfIdle(), "a call came within the idle time");
        now.addAndGet(1);
        assertTrue(connections.closeIfIdle());
        now.addAndGet(StatusConnections.IDLE.toNanos());
        assertFalse(connections.closeIfIdle(), "closed already");
    }

    @Test
    void theIdleTimeCountsFromTheEndOfTheLastCall() {
        connections.use(k -> now.addAndGet(StatusConnections.IDLE.toNanos()));
        assertFalse(connections.closeIfIdle(), "the call itself took the idle time");
    }
}
