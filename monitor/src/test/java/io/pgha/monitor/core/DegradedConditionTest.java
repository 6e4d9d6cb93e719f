package io.pgha.monitor.core;

import io.pgha.api.v1.Condition;
import io.pgha.api.v1.ConditionTypes;
import io.pgha.api.v1.cluster.TopologyStatus;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DegradedConditionTest {
    private static TopologyStatus.Instance instance(String name, boolean healthy) {
        TopologyStatus.Instance i = new TopologyStatus.Instance();
        i.name = name;
        i.healthy = healthy;
        return i;
    }

    private static final List<TopologyStatus.Instance> PRIMARY_DOWN = List.of(instance("pg-1", false), instance("pg-2", true));

    @Test
    void aVetoedFailoverSaysWhyBeforeAnythingElse() {
        Condition c = DegradedCondition.of(PRIMARY_DOWN, new Decider.Failover("pg-1", "primary pg-1 failed 3 consecutive checks"),
                "best standby pg-2 is 5000 bytes behind the primary's last known position 0/5001388, more than maxDataLossBytes 1024");
        assertEquals(ConditionTypes.DEGRADED, c.type);
        assertEquals(Condition.TRUE, c.status);
        assertEquals(DegradedCondition.FAILOVER_VETOED, c.reason);
        assertTrue(c.message.startsWith("primary pg-1 failed and no standby replaces it: best standby pg-2 is 5000 bytes"), c.message);
        assertTrue(c.message.contains("maxDataLossBytes 1024"), c.message);
    }

    @Test
    void withoutAVetoTheUsualReasons() {
        Decider.Failover failing = new Decider.Failover("pg-1", "primary pg-1 failed 3 consecutive checks");
        assertEquals(DegradedCondition.INSTANCES_UNHEALTHY, DegradedCondition.of(PRIMARY_DOWN, failing, null).reason);
        assertEquals(DegradedCondition.FAILOVER_HELD, DegradedCondition.of(PRIMARY_DOWN, new Decider.Hold("no standby answers"),
                "an old veto").reason, "a veto only stands while the failover it stopped is still the decision");
        Condition ok = DegradedCondition.of(List.of(instance("pg-1", true)), new Decider.Idle("primary healthy"), null);
        assertEquals(Condition.FALSE, ok.status);
        assertEquals(DegradedCondition.ALL_HEALTHY, ok.reason);
    }
}
