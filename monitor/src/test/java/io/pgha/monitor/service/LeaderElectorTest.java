package io.pgha.monitor.service;

import io.pgha.local.store.FileLease;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The elector's own view of leadership, on a clock the test moves. */
class LeaderElectorTest {
    private static final Duration LEASE = Duration.ofSeconds(5);

    @TempDir
    Path dir;

    /** A clock the test moves by hand. */
    static final class TestClock extends Clock {
        Instant now = Instant.parse("2026-11-25T12:00:00Z");

        @Override
        public java.time.ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(java.time.ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return now;
        }

        void advance(Duration d) {
            now = now.plus(d);
        }
    }

    private LeaderElector elector(String identity, TestClock clock) {
        return new LeaderElector(new FileLease(dir.resolve("pg-monitor.json"), identity, LEASE, clock), identity, LEASE, clock);
    }

    @Test
    void leadershipEndsBeforeTheLeaseCanPassToAnother() {
        TestClock clock = new TestClock();
        LeaderElector a = elector("a", clock);
        LeaderElector b = elector("b", clock);
        assertTrue(a.renew());
        assertFalse(b.renew());
        assertEquals("a", b.holder());

        // a stops renewing (stalled): it stops counting itself leader before the lease expires
        clock.advance(LEASE.multipliedBy(4).dividedBy(5));
        assertFalse(a.isLeader(), "a margin before expiry, a no longer acts");
        assertFalse(b.renew(), "and b cannot take the lease yet");
        clock.advance(LEASE.dividedBy(5).plusMillis(1));
        assertTrue(b.renew(), "once expired, b takes it");
        assertFalse(a.renew(), "a, back, finds it taken and stays out");
        assertFalse(a.isLeader());
    }

    @Test
    void renewalKeepsLeadershipAndReleaseHandsItOver() {
        TestClock clock = new TestClock();
        LeaderElector a = elector("a", clock);
        LeaderElector b = elector("b", clock);
        assertTrue(a.renew());
        for (int i = 0; i < 10; i++) {
            clock.advance(Duration.ofSeconds(1));
            assertTrue(a.renew());
            assertTrue(a.isLeader());
            assertFalse(b.renew());
        }
        a.release();
        assertFalse(a.isLeader());
        assertTrue(b.renew(), "released: b takes it at once");
    }
}
