package io.pgha.provisioner.model;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class InstancePlanTest {
    @Test
    void bootstrapCreatesSerialsFromOne() {
        assertEquals(new InstancePlan(List.of(1, 2, 3), List.of()), InstancePlan.of(3, Set.of(), null));
    }

    @Test
    void scaleUpFillsTheLowestFreeSerials() {
        assertEquals(List.of(2, 4), InstancePlan.of(4, Set.of(1, 3), 1).create());
    }

    @Test
    void scaleDownRemovesTheHighestStandbysAndNeverThePrimary() {
        assertEquals(List.of(4, 3), InstancePlan.of(2, Set.of(1, 2, 3, 4), 1).remove());
        // after a failover the primary may be the highest serial: it stays
        assertEquals(List.of(3, 2), InstancePlan.of(2, Set.of(1, 2, 3, 4), 4).remove());
        assertEquals(List.of(2, 1), InstancePlan.of(1, Set.of(1, 2, 3), 3).remove());
    }

    @Test
    void nothingToDoWhenTheCountMatches() {
        assertTrue(InstancePlan.of(3, Set.of(1, 2, 5), 5).isEmpty());
    }
}
