package io.pgha.monitor.service;

import io.micrometer.core.instrument.MeterRegistry;
import io.pgha.api.v1.cluster.PostgresCluster;
import io.pgha.local.LocalLayout;
import io.pgha.local.store.FileResourceStore;
import io.vertx.core.Vertx;
import org.jboss.logging.Logger;

import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Runs the monitor of the cluster in the local store's namespace: finds the cluster (polling the
 * store, so it idles until one is applied), runs its rounds at the spec's check interval on one
 * thread and renews its lease on another.
 */
public final class MonitorRunner implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(MonitorRunner.class);
    private static final Duration DISCOVERY = Duration.ofSeconds(1);

    private final LocalLayout layout;
    private final FileResourceStore store;
    private final Vertx vertx;
    private final MeterRegistry registry;
    private final Fencer fencer;
    private final String identity;
    private final ClusterMonitor.Config config;
    private final Clock clock;
    private final ScheduledExecutorService rounds = Executors.newSingleThreadScheduledExecutor(r -> thread(r, "pgha-monitor-rounds"));
    private final ScheduledExecutorService lease = Executors.newSingleThreadScheduledExecutor(r -> thread(r, "pgha-monitor-lease"));
    private volatile ClusterMonitor monitor;
    private volatile boolean stopped;

    public MonitorRunner(LocalLayout layout, Vertx vertx, MeterRegistry registry, Fencer fencer, String identity,
                         ClusterMonitor.Config config, Clock clock) {
        this.layout = layout;
        this.store = new FileResourceStore(layout.store());
        this.vertx = vertx;
        this.registry = registry;
        this.fencer = fencer;
        this.identity = identity;
        this.config = config;
        this.clock = clock;
    }

    private static Thread thread(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
    }

    public MonitorRunner start() {
        LOG.infof("monitor %s watching %s (namespace %s)", identity, layout.store(), LocalLayout.NAMESPACE);
        rounds.execute(this::round);
        // the leader renews, the others try, every twentieth of the lease: a takeover comes at most
        // that much after the lease expired
        long period = Math.max(100, config.leaseDuration().toMillis() / 20);
        lease.scheduleWithFixedDelay(this::renew, 0, period, TimeUnit.MILLISECONDS);
        return this;
    }

    public Optional<ClusterMonitor> monitor() {
        return Optional.ofNullable(monitor);
    }

    public String identity() {
        return identity;
    }

    public FileResourceStore store() {
        return store;
    }

    private void round() {
        if (stopped) {
            return;
        }
        long started = System.nanoTime();
        Duration next = DISCOVERY;
        try {
            ClusterMonitor m = discover();
            if (m != null) {
                m.tick();
                next = m.checkInterval();
            }
        } catch (RuntimeException e) {
            LOG.errorf(e, "monitor round failed");
        }
        long waited = Math.max(0, next.toNanos() - (System.nanoTime() - started));
        if (!stopped) {
            rounds.schedule(this::round, waited, TimeUnit.NANOSECONDS);
        }
    }

    private void renew() {
        try {
            ClusterMonitor m = monitor;
            if (m != null && !stopped) {
                m.renewLease();
            }
        } catch (RuntimeException e) {
            LOG.warnf("lease renewal failed: %s", e.getMessage());
        }
    }

    /** The monitor of the first cluster in the namespace, replaced when that cluster changes. */
    private ClusterMonitor discover() {
        List<PostgresCluster> clusters = store.list(PostgresCluster.class, LocalLayout.NAMESPACE);
        ClusterMonitor current = monitor;
        if (clusters.isEmpty()) {
            if (current != null) {
                LOG.infof("cluster %s is gone", current.name());
                monitor = null;
                current.close();
            }
            return null;
        }
        String name = clusters.get(0).getMetadata().getName();
        if (current != null && current.name().equals(name)) {
            return current;
        }
        if (current != null) {
            current.close();
        }
        LOG.infof("monitoring cluster %s/%s", LocalLayout.NAMESPACE, name);
        ClusterMonitor created = new ClusterMonitor(LocalLayout.NAMESPACE, name, layout, store, vertx, registry, fencer,
                identity, config, clock);
        created.renewLease();
        monitor = created;
        return created;
    }

    /** Stops without giving the lease up, as a crash would: for tests of the lease takeover. */
    public void halt() {
        stopped = true;
        rounds.shutdownNow();
        lease.shutdownNow();
        await();
    }

    @Override
    public void close() {
        stopped = true;
        // a round in progress (a failover step, say) may finish; then the threads are stopped
        rounds.shutdown();
        lease.shutdown();
        try {
            rounds.awaitTermination(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        halt();
        ClusterMonitor m = monitor;
        monitor = null;
        if (m != null) {
            m.close();
        }
    }

    private void await() {
        try {
            rounds.awaitTermination(10, TimeUnit.SECONDS);
            lease.awaitTermination(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
