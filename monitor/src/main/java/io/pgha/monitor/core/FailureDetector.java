package io.pgha.monitor.core;

import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * Counts failed checks per instance. One successful check clears the count; an instance is
 * failed once the count reaches the threshold. Not thread-safe: one monitor loop feeds it.
 *
 * <p>Two kinds of failure count differently. A check that fails outright (refused, reset, an
 * error, the primary answering from recovery) counts one. A check that gets no answer in time
 * counts by the clock instead: the instance has failed one check per whole check interval it has
 * been silent, so a hung instance is declared failed {@code threshold} intervals after the last
 * check it answered, however long each check waits; and a late answer, which still arrives and
 * still counts, clears the count. The recorded primary is not counted silent while one of its
 * standbys heard from its WAL sender within a check interval: a server that still streams its
 * WAL is slow (saturated, say), not dead; a frozen or dead one sends nothing.
 *
 * <p>An instance whose last check failed outright is checked again after a fifth of the interval
 * ({@link #nextCheck}): such a failure (nothing listens, the connection was reset) is nothing that
 * waiting for an answer would cure, so its threshold is reached in a fraction of a second, where
 * silence, which a slow server also shows, has to last whole intervals.
 *
 * <p>A check that failed outright while the platform shows that the instance's server process is
 * gone (a killed postmaster: its port refuses and no process of it is left to answer) fails the
 * instance at once, threshold reached: no later check could see anything else until something
 * restarts it, so counting more checks only delays the failover. Platforms that cannot tell
 * (Kubernetes, where a container restart looks the same) never report it.
 */
public final class FailureDetector {
    /**
     * A silent instance's count takes this fraction (1/LEEWAY) of an interval of leeway: rounds
     * start about one interval apart, not exactly, and the third round after the last answer must
     * count three however its start drifted by a few milliseconds.
     */
    private static final int LEEWAY = 10;

    /** An instance that failed its last check outright is checked again after this fraction of the interval. */
    private static final int RECHECK_DIVISOR = 5;
    private static final Duration SHORTEST_RECHECK = Duration.ofMillis(100);

    private final Map<String, Integer> failures = new HashMap<>();
    /** Instances whose last check failed outright. */
    private final Set<String> outright = new HashSet<>();

    /**
     * Whether a check passed: the instance answered, and the recorded primary answered as a
     * primary (one that answers from recovery cannot take writes, so it counts as failed) and
     * the platform counts it ready ({@code platformReady}: on Kubernetes its pod's Ready
     * condition, which clients reach it by; locally always true). Only the primary's readiness
     * counts: a standby is not ready while it does not stream, during every failover among others.
     */
    public static boolean passed(InstanceObservation o, boolean recordedPrimary, boolean platformReady) {
        return o.reachable() && !(recordedPrimary && (o.isStandby() || !platformReady));
    }

    /**
     * Records one check of {@code o}, which {@code observed} (this round's checks of every
     * instance) holds too; returns the failures counted now.
     *
     * @param interval the check interval
     */
    public int record(InstanceObservation o, boolean recordedPrimary, boolean platformReady, Duration interval,
                      Map<String, InstanceObservation> observed) {
        return record(o, recordedPrimary, platformReady, false, 1, interval, observed);
    }

    /**
     * As {@link #record(InstanceObservation, boolean, boolean, Duration, Map)}, and
     * {@code serverGone}: the platform saw no server process of the instance after the check
     * failed outright, which fails it at once ({@code threshold} failures).
     */
    public int record(InstanceObservation o, boolean recordedPrimary, boolean platformReady, boolean serverGone,
                      int threshold, Duration interval, Map<String, InstanceObservation> observed) {
        if (o.silence() == null) {
            boolean ok = passed(o, recordedPrimary, platformReady);
            int counted = record(o.name(), ok);
            if (!ok && !o.reachable() && serverGone && counted < threshold) {
                failures.put(o.name(), threshold);
                return threshold;
            }
            return counted;
        }
        outright.remove(o.name());
        if (recordedPrimary && streamedWithin(o.name(), observed, interval)) {
            failures.remove(o.name());
            return 0;
        }
        int silentChecks = (int) Math.min(Integer.MAX_VALUE, o.silence().plus(interval.dividedBy(LEEWAY)).dividedBy(interval));
        if (silentChecks == 0) {
            failures.remove(o.name());
        } else {
            failures.put(o.name(), silentChecks);
        }
        return silentChecks;
    }

    /** Whether some standby in {@code observed} streams and heard from {@code primary}'s WAL sender within {@code within}. */
    static boolean streamedWithin(String primary, Map<String, InstanceObservation> observed, Duration within) {
        double seconds = within.toNanos() / 1e9;
        return observed.values().stream().anyMatch(s -> !s.name().equals(primary) && s.isStandby() && s.streaming()
                && s.walReceiptAgeSeconds() != null && s.walReceiptAgeSeconds() < seconds);
    }

    /** Records one check that passed or failed outright; returns the number of consecutive failures now. */
    public int record(String instance, boolean ok) {
        if (ok) {
            failures.remove(instance);
            outright.remove(instance);
            return 0;
        }
        outright.add(instance);
        return failures.merge(instance, 1, Integer::sum);
    }

    public int failures(String instance) {
        return failures.getOrDefault(instance, 0);
    }

    public boolean isFailed(String instance, int threshold) {
        return failures(instance) >= Math.max(1, threshold);
    }

    /** Forgets an instance, for example once a failover replaced it. */
    public void reset(String instance) {
        failures.remove(instance);
        outright.remove(instance);
    }

    /** How long until {@code instance} should be checked again, at {@code interval} normally. */
    public Duration nextCheck(String instance, Duration interval) {
        if (!outright.contains(instance)) {
            return interval;
        }
        Duration soon = interval.dividedBy(RECHECK_DIVISOR);
        return soon.compareTo(SHORTEST_RECHECK) < 0 ? SHORTEST_RECHECK : soon;
    }

    /** Keeps only the instances named, so removed instances do not linger. */
    public void retain(java.util.Collection<String> instances) {
        failures.keySet().retainAll(instances);
        outright.retainAll(instances);
    }
}
