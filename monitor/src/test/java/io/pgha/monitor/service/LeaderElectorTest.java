package io.pgha.monitor.service;

import io.pgha.local.store.FileLease;
import io.pgha.monitor.local.LocalLease;
import io.pgha.local.testing.ManualClock;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The elector's own view of leadership, on a clock the test moves. */
class LeaderElectorTest {
    private static final Duration LEASE = Duration.ofSeconds(5);

    @TempDir
    Path dir;

    private LeaderElector elector(String identity, ManualClock clock) {
        return elector(identity, clock, clock);
    }

    /** An elector whose lease file judges expiry on {@code wall} and whose own view runs on {@code monotonic}. */
    private LeaderElector elector(String identity, ManualClock wall, ManualClock monotonic) {
        return new LeaderElector(new LocalLease(new FileLease(dir.resolve("pg-monitor.json"), identity, LEASE, wall, monotonic::nanos)), identity, LEASE,
                monotonic::nanos);
    }

    @Test
    void aWallClockSteppedBackwardsDoesNotStretchLeadership() {
        ManualClock wall = new ManualClock(Instant.parse("2026-11-25T12:00:00Z"));
        ManualClock monotonic = new ManualClock(Instant.EPOCH);
        LeaderElector a = elector("a", wall, monotonic);
        assertTrue(a.renew());
        // an hour back on the wall clock while a stalls for a whole lease duration of real time
        wall.advance(Duration.ofHours(-1));
        monotonic.advance(LEASE);
        assertFalse(a.isLeader(), "a stalled a whole lease duration: it must not act, whatever the wall clock says");
    }

    @Test
    void leadershipEndsBeforeTheLeaseCanPassToAnother() {
        ManualClock clock = new ManualClock(Instant.parse("2026-11-25T12:00:00Z"));
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
        ManualClock clock = new ManualClock(Instant.parse("2026-11-25T12:00:00Z"));
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
