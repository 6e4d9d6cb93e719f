package io.pgha.router.topology;

import io.pgha.api.v1.cluster.PostgresCluster;
import io.pgha.api.v1.cluster.RouterSpec;
import io.pgha.local.LocalLayout;
import io.pgha.local.store.FileResourceStore;
import org.jboss.logging.Logger;

import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The topology and {@code spec.router} of the one cluster in a local state directory, read from
 * the store a few times a second off the event loop; {@link #current()} and {@link #routerSpec()}
 * only read a field, so the per-transaction path never touches the disk.
 */
public final class LocalTopologySource implements TopologySource, AutoCloseable {
    private static final Logger LOG = Logger.getLogger(LocalTopologySource.class);

    private final LocalLayout layout;
    private final FileResourceStore store;
    private final ScheduledExecutorService refresher =
            Executors.newSingleThreadScheduledExecutor(r -> new Thread(r, "pgha-router-topology"));
    private volatile Topology topology;
    private volatile Optional<RouterSpec> routerSpec = Optional.empty();
    /** The store's version when it was last read: parsing the cluster ten times a second cost the router measurable CPU. */
    private Object readVersion;

    public LocalTopologySource(LocalLayout layout, Duration refresh) {
        this.layout = layout;
        this.store = new FileResourceStore(layout.store());
        refresh();
        refresher.scheduleWithFixedDelay(this::refresh, refresh.toMillis(), refresh.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** The cluster's topology, or one with {@link ClusterTopology#NO_PRIMARY} before the cluster has one. */
    @Override
    public Topology current() {
        return topology;
    }

    /** The cluster's {@code spec.router} as last read; empty before the cluster exists. */
    @Override
    public Optional<RouterSpec> routerSpec() {
        return routerSpec;
    }

    /** Whether the cluster has a primary the router can use. */
    public boolean known() {
        return !topology.primary().equals(ClusterTopology.NO_PRIMARY);
    }

    private void refresh() {
        try {
            Object version = store.version(PostgresCluster.class, LocalLayout.NAMESPACE);
            if (version.equals(readVersion)) {
                return;
            }
            readVersion = version;
            Optional<PostgresCluster> cluster = store.list(PostgresCluster.class, LocalLayout.NAMESPACE).stream().findFirst();
            routerSpec = cluster.map(c -> c.getSpec() == null ? null : c.getSpec().router);
            Optional<Topology> next = cluster
                    .flatMap(c -> ClusterTopology.of(c, i -> new ServerAddress("127.0.0.1", layout.instancePort(i.serial))));
            Topology t = next.orElse(ClusterTopology.NONE);
            if (topology != null && !t.primary().equals(topology.primary())) {
                LOG.infof("primary is now %s", t.primary());
            }
            topology = t;
        } catch (RuntimeException e) {
            // a half-written or unreadable store keeps the last topology; the next read will do
            LOG.debugf("cannot read the topology: %s", e.getMessage());
            readVersion = null;
            if (topology == null) {
                topology = ClusterTopology.NONE;
            }
        }
    }

    @Override
    public void close() {
        refresher.shutdownNow();
    }
}
