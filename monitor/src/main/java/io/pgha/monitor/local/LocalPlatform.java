package io.pgha.monitor.local;

import io.pgha.api.ClusterNames;
import io.pgha.api.v1.cluster.PostgresCluster;
import io.pgha.api.v1.cluster.PostgresClusterStatus;
import io.pgha.local.LocalLayout;
import io.pgha.local.store.FileLease;
import io.pgha.local.store.FileResourceStore;
import io.pgha.monitor.core.LeaseTerm;
import io.pgha.monitor.service.ClusterSource;
import io.pgha.monitor.service.Fencer;
import io.pgha.monitor.service.InstanceDirectory;
import io.pgha.monitor.service.Lease;
import io.pgha.monitor.service.Platform;
import io.pgha.monitor.service.RoleMarker;

import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

/**
 * The monitor on one machine: the cluster from the state directory's store (a state directory
 * holds one cluster: the first in its namespace), a lock file per lease, instances on 127.0.0.1,
 * the {@link LocalFencer}, and no role marks (nothing routes by label locally).
 */
public final class LocalPlatform implements Platform {
    private final LocalLayout layout;
    private final FileResourceStore store;
    private final Fencer fencer;
    private final Clock clock;
    private final LongSupplier monotonicNanos;
    private final ClusterSource clusters = new Clusters();

    public LocalPlatform(LocalLayout layout, Fencer fencer, Clock clock) {
        this(layout, fencer, clock, System::nanoTime);
    }

    /** @param monotonicNanos judges the lease's expiry, as {@link System#nanoTime()} */
    public LocalPlatform(LocalLayout layout, Fencer fencer, Clock clock, LongSupplier monotonicNanos) {
        this.layout = layout;
        this.store = new FileResourceStore(layout.store());
        this.fencer = fencer;
        this.clock = clock;
        this.monotonicNanos = monotonicNanos;
    }

    @Override
    public ClusterSource clusters() {
        return clusters;
    }

    @Override
    public Lease lease(String namespace, String cluster, String identity, Duration duration) {
        return new LocalLease(new FileLease(layout.lease(ClusterNames.monitorLease(cluster)), identity, duration, clock, monotonicNanos));
    }

    @Override
    public InstanceDirectory instances(String namespace, String cluster) {
        return new LocalAddressing(layout, cluster);
    }

    @Override
    public Fencer fencer(String namespace, String cluster) {
        return fencer;
    }

    @Override
    public RoleMarker roles(String namespace, String cluster) {
        return RoleMarker.NONE;
    }

    @Override
    public String describe() {
        return layout.store() + " (namespace " + LocalLayout.NAMESPACE + ")";
    }

    private final class Clusters implements ClusterSource {
        @Override
        public List<PostgresCluster> list() {
            return store.list(PostgresCluster.class, LocalLayout.NAMESPACE).stream().limit(1).toList();
        }

        @Override
        public Optional<PostgresCluster> get(String namespace, String name) {
            return store.get(PostgresCluster.class, namespace, name);
        }

        @Override
        public Optional<PostgresCluster> updateStatus(String namespace, String name, LeaseTerm term,
                                                      Consumer<PostgresClusterStatus> change) {
            // no lock is held (a monitor frozen in a write would hold up its successor): the write is a
            // compare-and-swap that changeUnder refuses once a newer term was recorded, as on Kubernetes
            return FileLease.underTerm(layout.lease(ClusterNames.monitorLease(name)), term.holder(), term.counter(),
                    () -> store.updateStatus(PostgresCluster.class, namespace, name, c -> {
                        if (c.getStatus() == null) {
                            c.setStatus(new PostgresClusterStatus());
                        }
                        ClusterSource.changeUnder(term, c.getStatus(), change);
                        return c;
                    })).orElseThrow(() -> new ClusterSource.LeaseLostException("the lease "
                    + layout.lease(ClusterNames.monitorLease(name)) + " no longer names term " + term));
        }
    }
}
