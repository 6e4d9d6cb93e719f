package io.pgha.backup.kubernetes;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.pgha.api.v1.backup.PostgresBackup;
import io.pgha.api.v1.cluster.BackupSpec;
import io.pgha.api.v1.cluster.PostgresCluster;
import io.pgha.backup.service.BackupCatalog;
import io.pgha.backup.service.RetentionRun;
import io.pgha.backup.service.WalArchives;
import io.pgha.backup.wal.WalArchive;
import org.jboss.logging.Logger;

import java.io.IOException;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * {@code spec.backup.retention} on Kubernetes, as local mode applies it ({@link RetentionRun}, at
 * most every {@link RetentionRun#EVERY}): expired backups and the WAL no kept backup needs leave the
 * repository, unless a restore or a drill holds a lease on the prefix; the PostgresBackup object of
 * each removed backup is deleted with it, and so are Failed ones that ended before the recovery
 * window's start. {@code status.backup.lastRetention} says what the last pass removed.
 */
final class KubernetesRetention {
    private static final Logger LOG = Logger.getLogger(KubernetesRetention.class);

    private final KubernetesClient client;
    private final Supplier<List<PostgresCluster>> clusters;
    private final StatusWrites writes;
    private final WalArchives archives;
    private final BackupCatalog catalog;
    /** When retention last looked at each cluster's prefix, by namespace/name. */
    private final Map<String, Instant> lastRun = new ConcurrentHashMap<>();
    /** The last failure reported for each cluster, so that one that repeats is logged once. */
    private final Map<String, String> lastFailure = new ConcurrentHashMap<>();

    KubernetesRetention(KubernetesClient client, Supplier<List<PostgresCluster>> clusters, StatusWrites writes, WalArchives archives,
                        BackupCatalog catalog) {
        this.client = client;
        this.clusters = clusters;
        this.writes = writes;
        this.archives = archives;
        this.catalog = catalog;
    }

    /** Retention of every watched cluster whose last pass is {@link RetentionRun#EVERY} ago. */
    void tick(Instant now) {
        for (PostgresCluster c : clusters.get()) {
            if (c.getSpec() == null || c.getSpec().backup == null || c.getSpec().backup.retention == null) {
                continue;
            }
            String key = c.getMetadata().getNamespace() + "/" + c.getMetadata().getName();
            Instant last = lastRun.get(key);
            if (last != null && now.isBefore(last.plus(RetentionRun.EVERY))) {
                continue;
            }
            lastRun.put(key, now);
            try {
                retain(c, now);
                lastFailure.remove(key);
            } catch (IOException | RuntimeException e) {
                if (!Objects.equals(lastFailure.put(key, String.valueOf(e.getMessage())), String.valueOf(e.getMessage()))) {
                    LOG.warnf("retention of cluster %s: %s; nothing removed until that is fixed", key, e.getMessage());
                }
            }
        }
    }

    /** One pass of {@code c}'s retention at {@code now}. */
    void retain(PostgresCluster c, Instant now) throws IOException {
        String ns = c.getMetadata().getNamespace();
        String name = c.getMetadata().getName();
        BackupSpec.Retention retention = c.getSpec().backup.retention;
        WalArchive archive = archives.of(name).archive();
        RetentionRun.Outcome out = RetentionRun.apply(archive.repository(), archive.layout(), catalog.completed(name),
                retention.window(), retention.minBackups, now, backup -> delete(ns, backup));
        if (out.heldBy() == null) {
            out.plan().windowStart().ifPresent(start -> deleteFailedBefore(ns, name, start));
        }
        if (out.acted()) {
            LOG.infof("retention of cluster %s/%s: %s", ns, name, out.report(now));
        }
        String previous = Optional.ofNullable(c.getStatus()).map(s -> s.backup).map(b -> b.lastRetention).orElse(null);
        out.statusLine(now, previous).ifPresent(line -> writes.clusterBackup(ns, name, b -> {
            b.lastRetention = line;
            return b;
        }));
    }

    /** The PostgresBackup of a backup retention removed from the repository (backups are named as their objects). */
    private void delete(String ns, String backup) {
        client.resources(PostgresBackup.class).inNamespace(ns).withName(backup).delete();
    }

    /** The cluster's Failed backups' objects that {@link RetentionRun#failedBefore} lets go. */
    private void deleteFailedBefore(String ns, String cluster, Instant windowStart) {
        for (PostgresBackup b : client.resources(PostgresBackup.class).inNamespace(ns).list().getItems()) {
            if (b.getSpec() != null && cluster.equals(b.getSpec().cluster) && RetentionRun.failedBefore(b, windowStart)) {
                delete(ns, b.getMetadata().getName());
            }
        }
    }
}
