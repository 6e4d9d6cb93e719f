package io.pgha.local.store;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class FileLeaseTest {
    @TempDir
    Path dir;

    /** A clock the test moves by hand. */
    static final class ManualClock extends Clock {
        Instant now = Instant.parse("2026-01-01T00:00:00Z");

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
    }

    @Test
    void oneHolderUntilItStopsRenewing() {
        ManualClock clock = new ManualClock();
        Path file = dir.resolve("pg-monitor.lease");
        FileLease a = new FileLease(file, "a", Duration.ofSeconds(5), clock);
        FileLease b = new FileLease(file, "b", Duration.ofSeconds(5), clock);
        assertTrue(a.tryAcquireOrRenew());
        assertFalse(b.tryAcquireOrRenew());
        clock.now = clock.now.plusSeconds(4);
        assertTrue(a.tryAcquireOrRenew(), "the holder renews");
        clock.now = clock.now.plusSeconds(4);
        assertFalse(b.tryAcquireOrRenew(), "renewed 4 s ago: still valid");
        clock.now = clock.now.plusSeconds(2);
        assertTrue(b.tryAcquireOrRenew(), "expired: another takes it");
        assertFalse(a.tryAcquireOrRenew(), "the old holder cannot renew a lease it lost");
        assertEquals(Optional.of("b"), a.holder());
    }

    @Test
    void releaseFreesAtOnce() {
        ManualClock clock = new ManualClock();
        Path file = dir.resolve("l");
        FileLease a = new FileLease(file, "a", Duration.ofSeconds(30), clock);
        FileLease b = new FileLease(file, "b", Duration.ofSeconds(30), clock);
        assertTrue(a.tryAcquireOrRenew());
        a.release();
        assertEquals(Optional.empty(), b.holder());
        assertTrue(b.tryAcquireOrRenew());
    }
}
