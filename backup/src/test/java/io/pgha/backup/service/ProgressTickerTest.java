package io.pgha.backup.service;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/**
 * A base backup's progress ticking on a real scheduler, every {@link #EVERY}. A scheduled task
 * that throws is never run again, so one failed status write must not end the ticks.
 */
class ProgressTickerTest {
    private static final Duration EVERY = Duration.ofMillis(20);
    private static final Duration TIMEOUT = Duration.ofSeconds(10);
    private static final long TOTAL = 100;

    private final ScheduledExecutorService ticker = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "progress-ticker-test");
        t.setDaemon(true);
        return t;
    });
    private final AtomicLong done = new AtomicLong(40);
    private final AtomicInteger attempts = new AtomicInteger();
    /** Each write that succeeded: bytes done, bytes total. */
    private final BlockingQueue<long[]> written = new LinkedBlockingQueue<>();

    @AfterEach
    void stopTicker() {
        ticker.shutdownNow();
    }

    /** A status store whose first write fails. */
    private void failingOnce(long bytesDone, long bytesTotal) {
        if (attempts.incrementAndGet() == 1) {
            throw new IllegalStateException("the store cannot write the backup's status now");
        }
        written.add(new long[] {bytesDone, bytesTotal});
    }

    @Test
    void aWriteThatFailsIsTriedAgainAtTheNextTickAndTheTotalIsNeverBelowTheBytesDone() {
        try (ProgressTicker progress = new ProgressTicker(ticker, EVERY, "shop-1", done::get, TOTAL, this::failingOnce)) {
            await("a tick after the failed write writes").atMost(TIMEOUT).until(() -> !written.isEmpty());
            assertArrayEquals(new long[] {40, TOTAL}, written.peek(), "below the estimate, the estimate is the total");

            // past the estimate: the databases' size, measured before the backup began
            done.set(150);
            await("a tick writes the bytes done past the estimate").atMost(TIMEOUT)
                    .until(() -> written.stream().anyMatch(w -> w[0] == 150));
            assertArrayEquals(new long[] {150, 150}, written.stream().filter(w -> w[0] == 150).findFirst().orElseThrow(),
                    "past the estimate, the bytes done are the total");
        }
    }

    @Test
    void noTickWritesOnceClosed() throws Exception {
        ProgressTicker progress = new ProgressTicker(ticker, EVERY, "shop-1", done::get, TOTAL,
                (bytesDone, bytesTotal) -> written.add(new long[] {bytesDone, bytesTotal}));
        await("a tick writes").atMost(TIMEOUT).until(() -> !written.isEmpty());

        progress.close();
        // a tick under way when it closed finishes first: the ticker runs one task at a time
        ticker.submit(() -> {
        }).get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        written.clear();

        assertNull(written.poll(10 * EVERY.toMillis(), TimeUnit.MILLISECONDS), "a write in the ten periods after close()");
    }
}
