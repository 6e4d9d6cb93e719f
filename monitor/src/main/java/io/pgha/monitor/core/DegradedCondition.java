package io.pgha.monitor.core;

import io.pgha.api.v1.Condition;
import io.pgha.api.v1.ConditionTypes;
import io.pgha.api.v1.cluster.TopologyStatus;

import java.util.List;

/**
 * The cluster's {@code Degraded} condition, which the monitor owns: why the cluster is not whole,
 * most pressing first. A failover the candidate choice vetoed comes before everything else: the
 * primary failed and nothing replaces it until someone acts (or the veto's cause goes away),
 * which a user must be told in the words of the veto. Pure.
 */
public final class DegradedCondition {
    public static final String FAILOVER_VETOED = "FailoverVetoed";
    public static final String FAILOVER_HELD = "FailoverHeld";
    public static final String INSTANCES_UNHEALTHY = "InstancesUnhealthy";
    public static final String ALL_HEALTHY = "AllHealthy";

    private DegradedCondition() {
    }

    /**
     * @param report   this round's report of every instance
     * @param decision this round's decision
     * @param veto     why the last failover away from the still failed primary was vetoed; null
     *                 when none was, or the primary answers again
     */
    public static Condition of(List<TopologyStatus.Instance> report, Decider.Decision decision, String veto) {
        if (veto != null && decision instanceof Decider.Failover f) {
            return new Condition(ConditionTypes.DEGRADED, Condition.TRUE, FAILOVER_VETOED,
                    "primary " + f.failedPrimary() + " failed and no standby replaces it: " + veto);
        }
        if (decision instanceof Decider.Hold h) {
            return new Condition(ConditionTypes.DEGRADED, Condition.TRUE, FAILOVER_HELD, h.reason());
        }
        List<String> unhealthy = report.stream().filter(i -> !Boolean.TRUE.equals(i.healthy)).map(i -> i.name).toList();
        if (!unhealthy.isEmpty()) {
            return new Condition(ConditionTypes.DEGRADED, Condition.TRUE, INSTANCES_UNHEALTHY,
                    "not healthy: " + String.join(", ", unhealthy));
        }
        return new Condition(ConditionTypes.DEGRADED, Condition.FALSE, ALL_HEALTHY, "every instance answers and streams");
    }
}
