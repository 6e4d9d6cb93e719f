package io.pgha.router.topology;

import io.pgha.api.v1.cluster.PostgresCluster;
import io.pgha.api.v1.cluster.PostgresClusterStatus;
import io.pgha.api.v1.cluster.ProvisioningStatus;
import io.pgha.api.v1.cluster.TopologyStatus;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;

class ClusterTopologyTest {
    private static PostgresCluster cluster(String primary, List<String> fenced) {
        PostgresCluster c = new PostgresCluster();
        c.setStatus(new PostgresClusterStatus());
        c.getStatus().provisioning = new ProvisioningStatus();
        for (int serial = 1; serial <= 3; serial++) {
            c.getStatus().provisioning.instances.add(new ProvisioningStatus.Instance("pg-" + serial, serial, "initdb"));
        }
        c.getStatus().topology = new TopologyStatus();
        c.getStatus().topology.currentPrimary = primary;
        c.getStatus().topology.fenced.addAll(fenced);
        return c;
    }

    private static ServerAddress at(ProvisioningStatus.Instance i) {
        return new ServerAddress("127.0.0.1", 7010 + i.serial);
    }

    @Test
    void primaryFromTheMonitorStandbysFromTheRest() {
        Topology t = ClusterTopology.of(cluster("pg-2", List.of()), ClusterTopologyTest::at).orElseThrow();
        assertEquals(new ServerAddress("127.0.0.1", 7012), t.primary());
        assertEquals(List.of(new ServerAddress("127.0.0.1", 7011), new ServerAddress("127.0.0.1", 7013)), t.standbys());
    }

    @Test
    void fencedInstancesGetNothing() {
        Topology t = ClusterTopology.of(cluster("pg-2", List.of("pg-1")), ClusterTopologyTest::at).orElseThrow();
        assertEquals(List.of(new ServerAddress("127.0.0.1", 7013)), t.standbys());
    }

    @Test
    void noPrimaryYetMeansNoTopology() {
        assertEquals(Optional.empty(), ClusterTopology.of(new PostgresCluster(), ClusterTopologyTest::at));
        assertEquals(Optional.empty(), ClusterTopology.of(cluster("pg-9", List.of()), ClusterTopologyTest::at));
    }

    @Test
    void placedStandbysTakeReadsOnlyWithAnAddressAndReady() {
        // pg-2 has no address yet, pg-3 is not ready: neither gets reads
        Topology t = ClusterTopology.placed(cluster("pg-1", List.of()), i -> switch (i.name) {
            case "pg-2" -> Optional.empty();
            case "pg-3" -> Optional.of(new ClusterTopology.Placement(at(i), false));
            default -> Optional.of(new ClusterTopology.Placement(at(i), true));
        }).orElseThrow();
        assertEquals(new ServerAddress("127.0.0.1", 7011), t.primary());
        assertEquals(List.of(), t.standbys());
    }

    @Test
    void aPrimaryNotReadyStaysThePrimaryOneWithoutAnAddressIsNone() {
        Topology notReady = ClusterTopology.placed(cluster("pg-1", List.of()),
                i -> Optional.of(new ClusterTopology.Placement(at(i), !i.name.equals("pg-1")))).orElseThrow();
        assertEquals(new ServerAddress("127.0.0.1", 7011), notReady.primary(), "only the monitor decides a failover");
        Topology unplaced = ClusterTopology.placed(cluster("pg-1", List.of()),
                i -> i.name.equals("pg-1") ? Optional.empty() : Optional.of(new ClusterTopology.Placement(at(i), true))).orElseThrow();
        assertEquals(ClusterTopology.NO_PRIMARY, unplaced.primary());
        assertEquals(List.of(new ServerAddress("127.0.0.1", 7012), new ServerAddress("127.0.0.1", 7013)), unplaced.standbys(),
                "the standbys still serve reads");
    }
}
