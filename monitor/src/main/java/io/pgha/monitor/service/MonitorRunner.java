package io.pgha.monitor.service;

import io.micrometer.core.instrument.MeterRegistry;
import io.pgha.api.v1.cluster.PostgresCluster;
import io.vertx.core.Vertx;
import org.jboss.logging.Logger;

import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Runs one {@link ClusterMonitor} per cluster the platform lists: finds the clusters (polling,
 * so it idles until one is applied), runs each one's rounds at its spec's check interval on a
 * thread of its own (a long failover of one cluster never delays the checks of another) and
 * renews each one's lease on another (a slow lease write for one cluster never lets another
 * cluster's lease lapse, nor does a long round).
 */
public final class MonitorRunner implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(MonitorRunner.class);
    private static final Duration DISCOVERY = Duration.ofSeconds(1);

    private final Platform platform;
    private final Vertx vertx;
    private final MeterRegistry registry;
    private final String identity;
    private final ClusterMonitor.Config config;
    private final Clock clock;
    private final ScheduledExecutorService discovery = Executors.newSingleThreadScheduledExecutor(r -> thread(r, "pgha-monitor-discovery"));
    /** By namespace/name. */
    private final Map<String, Watched> watched = new ConcurrentHashMap<>();
    private volatile boolean stopped;

    /**
     * A cluster's monitor, the thread its rounds run on and the one that renews its lease;
     * {@code next} is the next round as scheduled.
     */
    private record Watched(ClusterMonitor monitor, ScheduledExecutorService rounds, ScheduledExecutorService lease,
                           AtomicReference<ScheduledFuture<?>> next) {
        void shutdownNow() {
            rounds.shutdownNow();
            lease.shutdownNow();
        }
    }

    public MonitorRunner(Platform platform, Vertx vertx, MeterRegistry registry, String identity,
                         ClusterMonitor.Config config, Clock clock) {
        this.platform = platform;
        this.vertx = vertx;
        this.registry = registry;
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
        LOG.infof("monitor %s watching %s", identity, platform.describe());
        discovery.execute(this::discover);
        return this;
    }

    /** The monitors running now, by namespace and name. */
    public List<ClusterMonitor> monitors() {
        return watched.values().stream().map(Watched::monitor)
                .sorted(Comparator.comparing(ClusterMonitor::namespace).thenComparing(ClusterMonitor::name)).toList();
    }

    /** The first of {@link #monitors()}: locally, the monitor of the one cluster. */
    public Optional<ClusterMonitor> monitor() {
        return monitors().stream().findFirst();
    }

    public String identity() {
        return identity;
    }

    private static String key(String namespace, String name) {
        return namespace + "/" + name;
    }

    /** Starts monitors for new clusters and closes those of clusters that are gone. */
    private void discover() {
        if (stopped) {
            return;
        }
        try {
            Map<String, PostgresCluster> clusters = new LinkedHashMap<>();
            platform.clusters().list().forEach(c -> clusters.put(key(c.getMetadata().getNamespace(), c.getMetadata().getName()), c));
            for (String gone : Set.copyOf(watched.keySet())) {
                if (!clusters.containsKey(gone)) {
                    LOG.infof("cluster %s is gone", gone);
                    stop(watched.remove(gone));
                }
            }
            clusters.forEach((key, c) -> watched.computeIfAbsent(key, k -> watch(c)));
        } catch (RuntimeException e) {
            LOG.errorf(e, "cannot list the clusters to monitor");
        }
        if (!stopped) {
            discovery.schedule(this::discover, DISCOVERY.toMillis(), TimeUnit.MILLISECONDS);
        }
    }

    private Watched watch(PostgresCluster cluster) {
        String namespace = cluster.getMetadata().getNamespace();
        String name = cluster.getMetadata().getName();
        LOG.infof("monitoring cluster %s/%s", namespace, name);
        ClusterMonitor monitor = new ClusterMonitor(namespace, name, platform, vertx, registry, identity, config, clock);
        monitor.renewLease();
        String key = key(namespace, name);
        Watched w = new Watched(monitor, Executors.newSingleThreadScheduledExecutor(r -> thread(r, "pgha-monitor-rounds-" + key)),
                Executors.newSingleThreadScheduledExecutor(r -> thread(r, "pgha-monitor-lease-" + key)), new AtomicReference<>());
        monitor.onWakeUp(() -> wakeUp(w));
        w.rounds().execute(() -> round(w));
        // the leader renews, the others try, every twentieth of the lease: a takeover comes at most
        // that much after the lease expired
        long period = Math.max(100, config.leaseDuration().toMillis() / 20);
        w.lease().scheduleWithFixedDelay(() -> renew(w), period, period, TimeUnit.MILLISECONDS);
        return w;
    }

    private void round(Watched w) {
        if (stopped || w.rounds().isShutdown()) {
            return;
        }
        long started = System.nanoTime();
        w.monitor().tick();
        long waited = Math.max(0, w.monitor().nextRoundIn().toNanos() - (System.nanoTime() - started));
        if (!stopped && !w.rounds().isShutdown()) {
            w.next().set(w.rounds().schedule(() -> round(w), waited, TimeUnit.NANOSECONDS));
        }
    }

    /**
     * Runs the next round now rather than at its time. Only a round still waiting is moved: one
     * that runs already sees what woke it, or schedules the next one itself.
     */
    private void wakeUp(Watched w) {
        ScheduledFuture<?> pending = w.next().get();
        if (pending != null && !stopped && pending.cancel(false)) {
            try {
                w.rounds().execute(() -> round(w));
            } catch (java.util.concurrent.RejectedExecutionException e) {
                LOG.debugf("not waking %s/%s: its rounds have stopped", w.monitor().namespace(), w.monitor().name());
            }
        }
    }

    private void renew(Watched w) {
        if (stopped) {
            return;
        }
        try {
            w.monitor().renewLease();
        } catch (RuntimeException e) {
            LOG.warnf("lease renewal for %s/%s failed: %s", w.monitor().namespace(), w.monitor().name(), e.getMessage());
        }
    }

    /** A cluster's rounds end (one in progress, a failover step say, may finish), then its monitor closes. */
    private static void stop(Watched w) {
        w.rounds().shutdown();
        awaitTermination(w.rounds());
        w.shutdownNow();
        awaitTermination(w.lease());
        w.monitor().close();
    }

    /** Stops without giving the leases up, as a crash would: for tests of the lease takeover. */
    public void halt() {
        stopped = true;
        discovery.shutdownNow();
        watched.values().forEach(Watched::shutdownNow);
        awaitTermination(discovery);
        watched.values().forEach(w -> {
            awaitTermination(w.rounds());
            awaitTermination(w.lease());
        });
    }

    @Override
    public void close() {
        stopped = true;
        discovery.shutdown();
        List<Watched> all = new ArrayList<>(watched.values());
        watched.clear();
        all.forEach(w -> w.rounds().shutdown());
        all.forEach(w -> awaitTermination(w.rounds()));
        halt();
        all.forEach(Watched::shutdownNow);
        all.forEach(w -> awaitTermination(w.lease()));
        all.forEach(w -> w.monitor().close());
    }

    private static void awaitTermination(ScheduledExecutorService executor) {
        try {
            executor.awaitTermination(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
