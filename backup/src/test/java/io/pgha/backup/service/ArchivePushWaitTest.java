package io.pgha.backup.service;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A backup waiting for its end segment wakes up with the push, not after its poll interval. */
class ArchivePushWaitTest {
    /** Far longer than the test may take: a waiter that returns before it was woken. */
    private static final Duration LONG = Duration.ofMinutes(5);

    @Test
    void aWaiterReturnsWithTheNextPushAndAtOnceWhenItMissedOne() throws Exception {
        WalArchives archives = new WalArchives();
        archives.registry = new SimpleMeterRegistry();
        WalArchives.Entry entry = archives.of("shop");

        long seen = entry.pushes();
        CompletableFuture<Void> waiter = CompletableFuture.runAsync(() -> {
            try {
                entry.awaitPushAfter(seen, LONG);
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        assertFalse(waiter.isDone());
        entry.succeeded("000000010000000000000001", true);
        waiter.get(30, TimeUnit.SECONDS);

        // a push between looking at the archive and waiting is not waited out
        long before = System.nanoTime();
        entry.awaitPushAfter(seen, LONG);
        assertTrue(System.nanoTime() - before < TimeUnit.SECONDS.toNanos(30));
    }
}
