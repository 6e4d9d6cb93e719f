package io.pgha.backup.service;

import org.jboss.logging.Logger;

import java.time.Duration;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * While a base backup runs: writes its bytes done to its status every period, the first one period
 * after the start. The total written is never below the bytes done (the databases' size measured
 * before the backup is only an estimate). A write that fails is logged and tried again at the next
 * tick.
 */
final class ProgressTicker implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(ProgressTicker.class);

    /** Where the progress goes; a RuntimeException when it cannot be written now. */
    @FunctionalInterface
    interface Recorder {
        void record(long bytesDone, long bytesTotal);
    }

    private final ScheduledFuture<?> task;

    /**
     * Starts ticking on {@code ticker}, every {@code every} after the previous tick ended.
     *
     * @param name  the backup's name, for the log
     * @param done  the bytes done so far
     * @param total the bytes expected
     */
    ProgressTicker(ScheduledExecutorService ticker, Duration every, String name, LongSupplier done, long total, Recorder recorder) {
        task = ticker.scheduleWithFixedDelay(() -> {
            long bytesDone = done.getAsLong();
            try {
                recorder.record(bytesDone, Math.max(bytesDone, total));
            } catch (RuntimeException e) {
                // best effort, and a task that throws is never run again: the next tick tries anew
                LOG.debugf("backup %s: cannot record its progress: %s", name, e.getMessage());
            }
        }, every.toMillis(), every.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Stops ticking; a write under way is let finish. */
    @Override
    public void close() {
        task.cancel(false);
    }
}
