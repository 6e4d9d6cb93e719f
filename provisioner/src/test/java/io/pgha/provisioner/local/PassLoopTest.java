package io.pgha.provisioner.local;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The reconcile loop's timing, with an idle interval far longer than any wait here. */
class PassLoopTest {
    private static final Duration IDLE = Duration.ofMinutes(10);

    @Test
    void aWakeUpRunsTheNextPassAtOnceInsteadOfAfterTheIdleInterval() {
        AtomicInteger passes = new AtomicInteger();
        try (PassLoop loop = new PassLoop("test-loop", IDLE, () -> {
            passes.incrementAndGet();
            return false;
        })) {
            loop.start();
            await().atMost(Duration.ofSeconds(5)).until(() -> passes.get() == 1);
            loop.wake();
            await().atMost(Duration.ofSeconds(5)).until(() -> passes.get() == 2);
        }
    }

    @Test
    void aWakeUpDuringAPassRunsOneMorePassAfterItAndNoSecondLoop() throws Exception {
        AtomicInteger passes = new AtomicInteger();
        CountDownLatch inFirstPass = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        try (PassLoop loop = new PassLoop("test-loop", IDLE, () -> {
            if (passes.incrementAndGet() == 1) {
                inFirstPass.countDown();
                await().atMost(Duration.ofSeconds(10)).until(() -> release.getCount() == 0);
            }
            return false;
        })) {
            loop.start();
            assertTrue(inFirstPass.await(5, TimeUnit.SECONDS));
            // woken several times while the first pass runs: it may not have seen the change
            loop.wake();
            loop.wake();
            release.countDown();
            await().atMost(Duration.ofSeconds(5)).until(() -> passes.get() == 2);
            // then idle: two loops would keep running passes
            await().during(Duration.ofMillis(500)).atMost(Duration.ofSeconds(2)).until(() -> passes.get() == 2);
        }
    }
}
