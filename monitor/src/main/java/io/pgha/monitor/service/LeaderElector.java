package io.pgha.monitor.service;

import org.jboss.logging.Logger;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;

/**
 * This monitor's claim on a cluster's lease. {@link #isLeader()} is true only while the last
 * successful renewal is younger than the lease duration minus a safety margin, so a monitor that
 * stops renewing (stalled, cut off from the store) stops acting before anyone else can take over.
 */
public final class LeaderElector {
    private static final Logger LOG = Logger.getLogger(LeaderElector.class);

    private final Lease lease;
    private final Duration duration;
    private final Clock clock;
    private final String identity;
    private volatile Instant validUntil = Instant.EPOCH;

    public LeaderElector(Lease lease, String identity, Duration duration, Clock clock) {
        this.lease = lease;
        this.identity = identity;
        this.duration = duration;
        this.clock = clock;
    }

    /** Renews or takes the lease; call at least three times per lease duration. */
    public boolean renew() {
        boolean was = isLeader();
        Instant started = clock.instant();
        boolean held;
        try {
            held = lease.tryAcquireOrRenew();
        } catch (RuntimeException e) {
            LOG.warnf("cannot renew the monitor lease: %s", e.getMessage());
            held = false;
        }
        // measured from before the attempt, minus a margin for clock steps and a slow store
        validUntil = held ? started.plus(duration).minus(duration.dividedBy(5)) : Instant.EPOCH;
        boolean is = isLeader();
        if (is != was) {
            LOG.infof("%s %s the monitor lease", identity, is ? "holds" : "lost");
        }
        return is;
    }

    public boolean isLeader() {
        return clock.instant().isBefore(validUntil);
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
        validUntil = Instant.EPOCH;
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
