package io.pgha.monitor.core;

import java.util.HashMap;
import java.util.Map;

/**
 * Counts consecutive failed checks per instance. One successful check clears the count; an
 * instance is failed once the count reaches the threshold. Not thread-safe: one monitor loop
 * feeds it.
 */
public final class FailureDetector {
    private final Map<String, Integer> failures = new HashMap<>();

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

    /** Records one check; returns the number of consecutive failures now. */
    public int record(String instance, boolean ok) {
        if (ok) {
            failures.remove(instance);
            return 0;
        }
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
    }

    /** Keeps only the instances named, so removed instances do not linger. */
    public void retain(java.util.Collection<String> instances) {
        failures.keySet().retainAll(instances);
    }
}
