package io.pgha.provisioner.local;

import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * Reconcile passes, one after another on one thread: at once after a pass that acted or after
 * {@link #wake()}, else an idle interval apart. Work handed to {@link #call} runs on the same
 * thread, between passes, so it never races one. Without the wake-up a manifest applied just
 * after an idle pass waited up to the whole interval before anything happened.
 */
final class PassLoop implements AutoCloseable {
    private final ScheduledExecutorService executor;
    private final BooleanSupplier pass;
    private final Duration idle;
    private final Object lock = new Object();
    /** The number of the pass scheduled last: one of an older number was superseded by a wake-up and does not run. */
    private long current;
    private boolean running;
    /** A wake-up came while a pass ran: it may not have seen what woke it, so the next pass runs at once. */
    private boolean woken;
    private ScheduledFuture<?> next;

    /** @param pass one reconcile pass; true when it acted, and it must not throw */
    PassLoop(String threadName, Duration idle, BooleanSupplier pass) {
        this.executor = Executors.newSingleThreadScheduledExecutor(r -> new Thread(r, threadName));
        this.idle = idle;
        this.pass = pass;
    }

    /** Runs the first pass now. */
    void start() {
        synchronized (lock) {
            schedule(0);
        }
    }

    /** Something a pass acts on changed: the next pass runs now rather than at the end of the idle interval. */
    void wake() {
        synchronized (lock) {
            if (running) {
                woken = true;
                return;
            }
            if (next != null) {
                next.cancel(false);
            }
            schedule(0);
        }
    }

    /** Runs {@code action} on the loop's thread, between passes, waiting at most {@code timeout}. */
    <T> T call(Callable<T> action, Duration timeout) throws Exception {
        return executor.submit(action).get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    @Override
    public void close() {
        executor.shutdownNow();
    }

    /** Called holding the lock. */
    private void schedule(long delayMillis) {
        long number = ++current;
        try {
            next = executor.schedule(() -> run(number), delayMillis, TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException e) {
            // closed: no more passes
        }
    }

    private void run(long number) {
        synchronized (lock) {
            if (number != current) {
                return;
            }
            running = true;
            woken = false;
        }
        boolean acted = false;
        try {
            acted = pass.getAsBoolean();
        } finally {
            synchronized (lock) {
                running = false;
                schedule(acted || woken ? 0 : idle.toMillis());
            }
        }
    }
}
