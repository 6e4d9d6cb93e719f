package io.pgha.monitor.service;

import org.jboss.logging.Logger;

import io.pgha.monitor.core.LeaseTerm;

import java.time.Duration;
import java.util.Optional;
import java.util.function.LongSupplier;

/**
 * This monitor's claim on a cluster's lease. {@link #isLeader()} is true only while the last
 * successful renewal is younger than the lease duration minus a safety margin, so a monitor that
 * stops renewing (stalled, cut off from the store) stops acting before anyone else can take over.
 *
 * <p>Its own view runs on a monotonic clock ({@code System::nanoTime} in production), never on the
 * wall clock: a wall clock stepped backwards (NTP, an operator) would otherwise stretch this
 * monitor's leadership past the moment another monitor may take the lease.
 */
public final class LeaderElector {
    private static final Logger LOG = Logger.getLogger(LeaderElector.class);

    private final Lease lease;
    private final Duration duration;
    private final LongSupplier monotonicNanos;
    private final String identity;
    /** Monotonic time until which this monitor may act; meaningful only while {@link #held}. */
    private volatile long validUntilNanos;
    private volatile boolean held;
    /** The term of the last successful renewal. */
    private volatile LeaseTerm term;

    /** @param monotonicNanos a monotonic clock in nanoseconds, as {@link System#nanoTime()} */
    public LeaderElector(Lease lease, String identity, Duration duration, LongSupplier monotonicNanos) {
        this.lease = lease;
        this.identity = identity;
        this.duration = duration;
        this.monotonicNanos = monotonicNanos;
    }

    /**
     * Renews or takes the lease; call at least three times per lease duration. Called by the
     * lease thread and, before a failover step, by the thread that runs it.
     */
    public synchronized boolean renew() {
        boolean was = isLeader();
        long started = monotonicNanos.getAsLong();
        Optional<LeaseTerm> renewed;
        try {
            renewed = lease.tryAcquireOrRenew();
        } catch (RuntimeException e) {
            LOG.warnf("cannot renew the monitor lease: %s", e.getMessage());
            renewed = Optional.empty();
        }
        // measured from before the attempt, minus a margin for a slow store and clock rate differences
        validUntilNanos = started + duration.minus(duration.dividedBy(5)).toNanos();
        held = renewed.isPresent();
        renewed.ifPresent(t -> term = t);
        boolean is = isLeader();
        if (is != was) {
            LOG.infof("%s %s the monitor lease%s", identity, is ? "holds" : "lost", is ? " (term " + term + ")" : "");
        }
        return is;
    }

    public boolean isLeader() {
        // a difference, not a comparison of two readings: nanoTime may wrap
        return held && monotonicNanos.getAsLong() - validUntilNanos < 0;
    }

    /** The term this monitor leads under, while it is the leader. */
    public Optional<LeaseTerm> term() {
        LeaseTerm t = term;
        return isLeader() && t != null ? Optional.of(t) : Optional.empty();
    }

    /** How long this monitor may still act without another renewal: zero when it is not the leader. */
    public Duration remaining() {
        long left = validUntilNanos - monotonicNanos.getAsLong();
        return held && left > 0 ? Duration.ofNanos(left) : Duration.ZERO;
    }

    public String identity() {
        return identity;
    }

    /** The current holder according to the lease. */
    public String holder() {
        try {
            return lease.holder().orElse(null);
        } catch (RuntimeException e) {
            return null;
        }
    }

    /** Gives the lease up at once (on shutdown), so another monitor can act without waiting. */
    public void release() {
        held = false;
        try {
            lease.release();
        } catch (RuntimeException e) {
            LOG.warnf("cannot release the monitor lease: %s", e.getMessage());
        }
    }

    public Duration duration() {
        return duration;
    }
}
