package io.pgha.router.topology;

import io.pgha.api.v1.cluster.PostgresCluster;
import io.pgha.api.v1.cluster.ProvisioningStatus;
import io.pgha.api.v1.cluster.TopologyStatus;

import java.util.List;
import java.util.Optional;
import java.util.function.Function;

/**
 * The router's view of a cluster from its status, on any platform: the monitor's current primary,
 * and as standbys every other provisioned instance that is not fenced. Health and lag are the
 * router's own business; it checks them itself, faster than the status changes.
 */
public final class ClusterTopology {
    private ClusterTopology() {
    }

    /** Empty until the cluster has a primary. {@code address} maps an instance to where it listens. */
    public static Optional<Topology> of(PostgresCluster cluster, Function<ProvisioningStatus.Instance, ServerAddress> address) {
        var status = cluster.getStatus();
        if (status == null || status.topology == null || status.topology.currentPrimary == null || status.provisioning == null) {
            return Optional.empty();
        }
        TopologyStatus t = status.topology;
        Optional<ProvisioningStatus.Instance> primary = status.provisioning.instance(t.currentPrimary);
        if (primary.isEmpty()) {
            return Optional.empty();
        }
        List<ServerAddress> standbys = status.provisioning.instances.stream()
                .filter(i -> !i.name.equals(t.currentPrimary) && !t.fenced.contains(i.name))
                .map(address).toList();
        return Optional.of(new Topology(address.apply(primary.get()), standbys));
    }
}
