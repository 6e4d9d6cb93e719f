package io.pgha.local.store;

import io.pgha.local.testing.ManualClock;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class FileLeaseTest {
    @TempDir
    Path dir;

    @Test
    void oneHolderUntilItStopsRenewing() {
        ManualClock clock = new ManualClock(Instant.parse("2026-01-01T00:00:00Z"));
        Path file = dir.resolve("pg-monitor.lease");
        FileLease a = new FileLease(file, "a", Duration.ofSeconds(5), clock);
        FileLease b = new FileLease(file, "b", Duration.ofSeconds(5), clock);
        assertTrue(a.tryAcquireOrRenew());
        assertFalse(b.tryAcquireOrRenew());
        clock.advance(Duration.ofSeconds(4));
        assertTrue(a.tryAcquireOrRenew(), "the holder renews");
        clock.advance(Duration.ofSeconds(4));
        assertFalse(b.tryAcquireOrRenew(), "renewed 4 s ago: still valid");
        clock.advance(Duration.ofSeconds(2));
        assertTrue(b.tryAcquireOrRenew(), "expired: another takes it");
        assertFalse(a.tryAcquireOrRenew(), "the old holder cannot renew a lease it lost");
        assertEquals(Optional.of("b"), a.holder());
    }

    @Test
    void releaseFreesAtOnce() {
        ManualClock clock = new ManualClock(Instant.parse("2026-01-01T00:00:00Z"));
        Path file = dir.resolve("l");
        FileLease a = new FileLease(file, "a", Duration.ofSeconds(30), clock);
        FileLease b = new FileLease(file, "b", Duration.ofSeconds(30), clock);
        assertTrue(a.tryAcquireOrRenew());
        a.release();
        assertEquals(Optional.empty(), b.holder());
        assertTrue(b.tryAcquireOrRenew());
    }
}
