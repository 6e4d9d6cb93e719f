package io.pgha.provisioner.kubernetes;

import io.pgha.api.v1.cluster.PostgresCluster;
import io.pgha.api.v1.cluster.PostgresClusterStatus;
import io.pgha.api.v1.cluster.TopologyStatus;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

class InstanceLayoutTest {
    private final PostgresCluster cluster = Clusters.example("db");

    @Test
    void beforeBootstrapInstanceOneIsTheFirstPrimary() {
        InstanceLayout layout = InstanceLayout.of(cluster, Set.of());
        assertEquals("pg-1", layout.primary());
        assertEquals("pg-1", layout.firstPrimary());
        assertEquals(List.of("pg-1", "pg-2", "pg-3"), layout.plannedNames());
        assertEquals("primary", layout.role("pg-1"));
        assertEquals("standby", layout.role("pg-2"));
    }

    @Test
    void afterAFailoverTheRecordedPrimaryIsKeptWhenScalingDown() {
        topology("pg-5");
        cluster.getSpec().instances = 2;
        InstanceLayout layout = InstanceLayout.of(cluster, Set.of(1, 2, 3, 4, 5));
        assertNull(layout.firstPrimary(), "a recorded primary ends the initdb window");
        assertEquals(List.of(4, 3, 2), layout.plan().remove());
        assertEquals(List.of("pg-1", "pg-5"), layout.plannedNames());
        assertEquals("primary", layout.role("pg-5"));
        assertEquals("standby", layout.role("pg-1"));
    }

    @Test
    void aFencedPrimaryIsLabelledStandbyUntilItsSuccessorIsRecorded() {
        topology("pg-1");
        cluster.getStatus().topology.fenced.add("pg-1");
        InstanceLayout layout = InstanceLayout.of(cluster, Set.of(1, 2, 3));
        assertEquals("standby", layout.role("pg-1"), "the monitor fenced it: the -rw service must not select it");
        assertEquals("standby", layout.role("pg-2"), "and nobody else is primary before the promotion is recorded");
    }

    @Test
    void scalingUpTakesTheLowestFreeSerials() {
        topology("pg-2");
        cluster.getSpec().instances = 4;
        InstanceLayout layout = InstanceLayout.of(cluster, Set.of(2, 5));
        assertEquals(List.of(1, 3), layout.plan().create());
        assertEquals(List.of(1, 2, 3, 5), layout.plannedSerials());
    }

    private void topology(String primary) {
        cluster.setStatus(new PostgresClusterStatus());
        cluster.getStatus().topology = new TopologyStatus();
        cluster.getStatus().topology.currentPrimary = primary;
    }
}
