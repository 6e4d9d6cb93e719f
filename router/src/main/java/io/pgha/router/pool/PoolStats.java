package io.pgha.router.pool;

import java.util.concurrent.atomic.LongAdder;

/** Counters of all pools, readable from any thread (metrics). */
public final class PoolStats {
    public final LongAdder opened = new LongAdder();
    public final LongAdder connectFailures = new LongAdder();
    public final LongAdder waitTimeouts = new LongAdder();
    public final LongAdder acquisitions = new LongAdder();
    public final LongAdder waitNanos = new LongAdder();

    void opened() {
        opened.increment();
    }

    void connectFailed() {
        connectFailures.increment();
    }

    void waitTimeout() {
        waitTimeouts.increment();
    }

    void acquired(long waitedNanos) {
        acquisitions.increment();
        waitNanos.add(Math.max(0, waitedNanos));
    }
}
