package io.pgha.local.store;

import io.pgha.local.testing.ManualClock;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.time.Instant;
import java.util.Optional;
import java.util.OptionalLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

class FileLeaseTest {
    @TempDir
    Path dir;

    @Test
    void oneHolderUntilItStopsRenewing() {
        ManualClock clock = new ManualClock(Instant.parse("2026-01-01T00:00:00Z"));
        Path file = dir.resolve("pg-monitor.lease");
        FileLease a = new FileLease(file, "a", Duration.ofSeconds(5), clock, clock::nanos);
        FileLease b = new FileLease(file, "b", Duration.ofSeconds(5), clock, clock::nanos);
        assertEquals(OptionalLong.of(0), a.tryAcquireOrRenew());
        assertTrue(b.tryAcquireOrRenew().isEmpty());
        clock.advance(Duration.ofSeconds(4));
        assertEquals(OptionalLong.of(0), a.tryAcquireOrRenew(), "the holder renews, in the same term");
        clock.advance(Duration.ofSeconds(4));
        assertTrue(b.tryAcquireOrRenew().isEmpty(), "renewed 4 s ago: still valid");
        clock.advance(Duration.ofSeconds(2));
        assertTrue(b.tryAcquireOrRenew().isEmpty(), "b first saw this renewal 2 s ago (at its try at 8 s): not yet a whole duration");
        clock.advance(Duration.ofSeconds(4));
        assertEquals(OptionalLong.of(1), b.tryAcquireOrRenew(), "unrenewed for 5 s as b saw it: b takes it in a new term");
        assertTrue(a.tryAcquireOrRenew().isEmpty(), "the old holder cannot renew a lease it lost");
        assertEquals(Optional.of("b"), a.holder());
    }

    /**
     * The wall clock stepped forwards past the lease's expiry (as written in the file) hands
     * nothing over: b judges expiry by how long it has seen the same renewal on its monotonic clock.
     */
    @Test
    void aWallClockSteppedForwardsDoesNotHandTheLeaseOver() {
        ManualClock wall = new ManualClock(Instant.parse("2026-01-01T00:00:00Z"));
        ManualClock monotonic = new ManualClock(Instant.EPOCH);
        Path file = dir.resolve("l");
        FileLease a = new FileLease(file, "a", Duration.ofSeconds(5), wall, monotonic::nanos);
        FileLease b = new FileLease(file, "b", Duration.ofSeconds(5), wall, monotonic::nanos);
        assertTrue(a.tryAcquireOrRenew().isPresent());
        wall.advance(Duration.ofHours(1));
        assertTrue(b.tryAcquireOrRenew().isEmpty(), "an hour on the wall clock, no time on b's own: a still holds it");
        assertEquals(Optional.of("a"), b.holder());
        monotonic.advance(Duration.ofSeconds(5));
        assertTrue(b.tryAcquireOrRenew().isPresent(), "no renewal seen for the whole duration: b takes it");
    }

    @Test
    void aWriteUnderATermRunsOnlyWhileTheLeaseNamesIt() {
        ManualClock clock = new ManualClock(Instant.parse("2026-01-01T00:00:00Z"));
        Path file = dir.resolve("l");
        FileLease a = new FileLease(file, "a", Duration.ofSeconds(5), clock, clock::nanos);
        FileLease b = new FileLease(file, "b", Duration.ofSeconds(5), clock, clock::nanos);
        long term = a.tryAcquireOrRenew().orElseThrow();
        assertEquals(Optional.of("written"), FileLease.underTerm(file, "a", term, () -> "written"));
        assertTrue(b.tryAcquireOrRenew().isEmpty());
        clock.advance(Duration.ofSeconds(5));
        long next = b.tryAcquireOrRenew().orElseThrow();
        assertEquals(Optional.empty(), FileLease.underTerm(file, "a", term, () -> "written"), "a lost the lease: its write is refused");
        assertEquals(Optional.empty(), FileLease.underTerm(file, "b", term, () -> "written"), "b under a's old term: refused too");
        assertEquals(Optional.of("written"), FileLease.underTerm(file, "b", next, () -> "written"));
    }

    @Test
    void releaseFreesAtOnce() {
        ManualClock clock = new ManualClock(Instant.parse("2026-01-01T00:00:00Z"));
        Path file = dir.resolve("l");
        FileLease a = new FileLease(file, "a", Duration.ofSeconds(30), clock, clock::nanos);
        FileLease b = new FileLease(file, "b", Duration.ofSeconds(30), clock, clock::nanos);
        assertTrue(a.tryAcquireOrRenew().isPresent());
        a.release();
        assertEquals(Optional.empty(), b.holder());
        assertEquals(OptionalLong.of(1), b.tryAcquireOrRenew());
    }

    /**
     * A holder frozen in the middle of a write under its term (SIGSTOP, a paused machine) holds
     * nothing that the others wait for: once its renewals stop for the lease duration, another
     * identity takes the lease, and the frozen holder finds it gone when it thaws.
     */
    @Test
    void aHolderFrozenInsideAWriteDoesNotHoldTheOthersUp() throws Exception {
        ManualClock clock = new ManualClock(Instant.parse("2026-01-01T00:00:00Z"));
        Path file = dir.resolve("l");
        FileLease a = new FileLease(file, "a", Duration.ofSeconds(5), clock, clock::nanos);
        FileLease b = new FileLease(file, "b", Duration.ofSeconds(5), clock, clock::nanos);
        long term = a.tryAcquireOrRenew().orElseThrow();
        CountDownLatch inside = new CountDownLatch(1);
        CountDownLatch thaw = new CountDownLatch(1);
        CompletableFuture<Optional<String>> frozen = CompletableFuture.supplyAsync(() -> FileLease.underTerm(file, "a", term, () -> {
            inside.countDown();
            try {
                thaw.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return "written";
        }));
        try {
            assertTrue(inside.await(10, TimeUnit.SECONDS), "a started its write");
            OptionalLong next = assertTimeoutPreemptively(Duration.ofSeconds(5), () -> {
                assertTrue(b.tryAcquireOrRenew().isEmpty(), "a still holds the lease");
                clock.advance(Duration.ofSeconds(5));
                return b.tryAcquireOrRenew();
            }, "b waited for a lock the frozen holder keeps");
            assertTrue(next.isPresent(), "no renewal for the whole duration: b takes the lease while a is frozen");
            assertEquals(Optional.of("b"), b.holder());
            assertTrue(a.tryAcquireOrRenew().isEmpty(), "a, thawed, finds the lease gone");
        } finally {
            thaw.countDown();
            frozen.get(10, TimeUnit.SECONDS);
        }
    }
}
