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
    /**
     * The primary while none can be named: nothing listens on port 0, so a connection fails at
     * once and the client gets an error instead of waiting.
     */
    public static final ServerAddress NO_PRIMARY = new ServerAddress("127.0.0.1", 0);
    /** The topology while the cluster has no primary to name. */
    public static final Topology NONE = new Topology(NO_PRIMARY, List.of());

    private ClusterTopology() {
    }

    /** Where the platform says an instance listens, and whether it may take reads now. */
    public record Placement(ServerAddress address, boolean ready) {
    }

    /**
     * For a platform where every instance has a fixed address and is always a candidate (the
     * local one: a standby that is down is the router's own health check's business).
     * {@code address} maps an instance to where it listens. Empty until the cluster has a primary.
     */
    public static Optional<Topology> of(PostgresCluster cluster, Function<ProvisioningStatus.Instance, ServerAddress> address) {
        return placed(cluster, i -> Optional.of(new Placement(address.apply(i), true)));
    }

    /**
     * For a platform that places instances (Kubernetes: a pod IP, a Ready condition);
     * {@code placement} is empty while an instance has no address. A standby takes reads only
     * when placed and ready. The primary stays the primary whether or not it is ready: only the
     * monitor decides a failover, and no other server could take its writes meanwhile; while it
     * has no address it is {@link #NO_PRIMARY} and the standbys still serve reads. Empty until
     * the status names a provisioned primary.
     */
    public static Optional<Topology> placed(PostgresCluster cluster,
                                            Function<ProvisioningStatus.Instance, Optional<Placement>> placement) {
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
                .flatMap(i -> placement.apply(i).filter(Placement::ready).stream())
                .map(Placement::address).toList();
        ServerAddress primaryAddress = placement.apply(primary.get()).map(Placement::address).orElse(NO_PRIMARY);
        return Optional.of(new Topology(primaryAddress, standbys));
    }
}
