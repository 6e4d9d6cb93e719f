package io.pgha.local.testing;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;

/** A clock a test moves by hand, for leases and timeouts without waiting. */
public final class ManualClock extends Clock {
    private volatile Instant now;

    public ManualClock(Instant start) {
        this.now = start;
    }

    public void advance(Duration by) {
        now = now.plus(by);
    }

    @Override
    public ZoneId getZone() {
        return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
        return this;
    }

    /** This clock's reading in nanoseconds, for code that takes a monotonic source (it moves only by {@link #advance}). */
    public long nanos() {
        Instant at = now;
        return at.getEpochSecond() * 1_000_000_000L + at.getNano();
    }

    @Override
    public Instant instant() {
        return now;
    }
}
