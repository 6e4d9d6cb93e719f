package io.pgha.backup.kubernetes;

import io.pgha.api.v1.cluster.PostgresCluster;
import io.pgha.api.v1.cluster.TopologyStatus;
import io.pgha.backup.core.ArchivingState;
import io.pgha.backup.service.BackupJob;
import io.pgha.backup.service.WalArchives;
import org.jboss.logging.Logger;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.BiFunction;
import java.util.function.Supplier;

/**
 * The WAL segments waiting to be archived in a cluster's instance pods, which this service cannot
 * count on disk as it does in local mode: every pass asks each instance in the cluster's topology,
 * as the superuser over verified TLS ({@link PodInstances}), for the {@code .ready} files in its
 * {@code archive_status}, and the most any instance has becomes the cluster's
 * {@code pgha_wal_archive_pending_segments} ({@link ArchivingState#pendingSegments}). An instance
 * that cannot be asked is left out of that pass, and why is logged once per reason. It runs on a
 * thread of its own, since an unreachable pod can take the connect timeout to answer.
 */
final class ArchiveBacklog implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(ArchiveBacklog.class);
    /** pg_ls_archive_statusdir (PostgreSQL 12+) lists archive_status; superusers and pg_monitor may call it. */
    static final String READY_COUNT = "SELECT count(*) FROM pg_ls_archive_statusdir() WHERE name LIKE '%.ready'";

    private final Supplier<List<PostgresCluster>> clusters;
    private final BiFunction<String, String, BackupJob.Instances> instances;
    private final WalArchives archives;
    private final ScheduledExecutorService executor = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "pgha-archive-backlog");
        t.setDaemon(true);
        return t;
    });
    /** The last reason each instance (namespace/instance) could not be asked, so that each is logged once. */
    private final Map<String, String> unreachable = new ConcurrentHashMap<>();

    /** @param instances the instances of cluster (namespace, name) */
    ArchiveBacklog(Supplier<List<PostgresCluster>> clusters, BiFunction<String, String, BackupJob.Instances> instances,
                   WalArchives archives) {
        this.clusters = clusters;
        this.instances = instances;
        this.archives = archives;
    }

    ArchiveBacklog start(Duration every) {
        executor.scheduleWithFixedDelay(this::safePass, 0, every.toMillis(), TimeUnit.MILLISECONDS);
        return this;
    }

    private void safePass() {
        try {
            pass();
        } catch (RuntimeException e) {
            LOG.warnf("counting the WAL segments waiting in the instance pods: %s", e.getMessage());
        }
    }

    /** One look at every watched cluster with spec.backup. */
    void pass() {
        for (PostgresCluster c : clusters.get()) {
            TopologyStatus topology = c.getStatus() == null ? null : c.getStatus().topology;
            if (c.getSpec() == null || c.getSpec().backup == null || topology == null) {
                continue;
            }
            String ns = c.getMetadata().getNamespace();
            String cluster = c.getMetadata().getName();
            BackupJob.Instances pods = instances.apply(ns, cluster);
            List<Long> ready = new ArrayList<>();
            for (TopologyStatus.Instance instance : topology.instances) {
                String key = ns + "/" + instance.name;
                try (Connection sql = pods.sql(instance.name); Statement st = sql.createStatement();
                     ResultSet rs = st.executeQuery(READY_COUNT)) {
                    rs.next();
                    ready.add(rs.getLong(1));
                    unreachable.remove(key);
                } catch (SQLException | RuntimeException e) {
                    String reason = String.valueOf(e.getMessage());
                    if (!Objects.equals(unreachable.put(key, reason), reason)) {
                        LOG.warnf("cannot count the WAL segments waiting on instance %s: %s", key, reason);
                    }
                }
            }
            archives.of(cluster).pending(ArchivingState.pendingSegments(ready));
        }
    }

    @Override
    public void close() {
        executor.shutdownNow();
    }
}
