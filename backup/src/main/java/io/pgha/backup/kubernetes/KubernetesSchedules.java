package io.pgha.backup.kubernetes;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.pgha.api.Labels;
import io.pgha.api.schedule.CronSchedule;
import io.pgha.api.v1.backup.PostgresBackup;
import io.pgha.api.v1.cluster.PostgresCluster;
import io.pgha.backup.core.BackupNames;
import io.pgha.backup.core.BackupPhase;
import io.pgha.backup.service.CronFields;
import org.jboss.logging.Logger;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import java.util.stream.Collectors;

/**
 * {@code spec.backup.schedule} on Kubernetes: when a slot of the cluster's cron schedule
 * ({@link CronSchedule}, the same five-field UTC cron local mode runs) has passed since its last
 * backup began, a PostgresBackup object is created, which then runs like one a person created.
 * The last backup is the newest PostgresBackup of the cluster, or the cluster's creation when it
 * has none, so a restarted service neither repeats a slot nor makes up every slot it missed (one
 * backup on its return); a slot that comes while a backup of the cluster still runs is served by
 * that one. Counting from the creation matters on Knative, where every wake-up is a new process
 * that saw no earlier slot: a cluster without backups would otherwise never get its first one.
 * {@code status.backup.nextScheduledBackup} says when the next slot is. Retention is {@link KubernetesRetention}'s.
 */
final class KubernetesSchedules {
    private static final Logger LOG = Logger.getLogger(KubernetesSchedules.class);

    private final KubernetesClient client;
    private final Supplier<List<PostgresCluster>> clusters;
    private final StatusWrites writes;
    /** When each cluster's last backup began, as this service counts for its schedule, by namespace/name. */
    private final Map<String, Instant> lastRun = new ConcurrentHashMap<>();
    private final CronFields cronFields = new CronFields();

    KubernetesSchedules(KubernetesClient client, Supplier<List<PostgresCluster>> clusters, StatusWrites writes) {
        this.client = client;
        this.clusters = clusters;
        this.writes = writes;
    }

    /** One look at every watched cluster's schedule at {@code now}. */
    void tick(Instant now) {
        for (PostgresCluster c : clusters.get()) {
            if (c.getSpec() == null || c.getSpec().backup == null || c.getSpec().backup.schedule == null) {
                continue;
            }
            try {
                schedule(c, now);
            } catch (RuntimeException e) {
                LOG.warnf("backup schedule of cluster %s/%s: %s", c.getMetadata().getNamespace(), c.getMetadata().getName(), e.getMessage());
            }
        }
    }

    /**
     * One look at cluster {@code c}'s schedule at {@code now}: creates the PostgresBackup of a slot
     * that has passed since its last backup. Returns the cluster's backup that is not finished yet
     * (the one just created, or one still running that serves the slot), if any.
     */
    Optional<String> schedule(PostgresCluster c, Instant now) {
        String ns = c.getMetadata().getNamespace();
        String name = c.getMetadata().getName();
        String key = ns + "/" + name;
        Optional<CronSchedule> parsed = cronFields.parse(key, "spec.backup.schedule", c.getSpec().backup.schedule, "scheduled backups");
        if (parsed.isEmpty()) {
            writes.clusterBackup(ns, name, b -> {
                b.nextScheduledBackup = null;
                return b;
            });
            return Optional.empty();
        }
        CronSchedule cron = parsed.get();
        List<PostgresBackup> backups = client.resources(PostgresBackup.class).inNamespace(ns).list().getItems();
        List<PostgresBackup> ofCluster = backups.stream().filter(b -> b.getSpec() != null && name.equals(b.getSpec().cluster)).toList();
        Instant last = lastRun.computeIfAbsent(key, k -> lastStarted(ofCluster).or(() -> created(c)).orElse(now));
        Optional<String> running = ofCluster.stream().filter(b -> !finished(b)).map(b -> b.getMetadata().getName()).findFirst();
        if (cron.due(last, now)) {
            lastRun.put(key, now);
            if (running.isPresent()) {
                LOG.warnf("scheduled backup of cluster %s not started: %s is still running and serves this slot", key, running.get());
            } else {
                Set<String> taken = backups.stream().map(b -> b.getMetadata().getName()).collect(Collectors.toSet());
                String backup = BackupNames.next(name, now, taken);
                PostgresBackup b = new PostgresBackup();
                b.setMetadata(new ObjectMetaBuilder().withName(backup).withNamespace(ns).withLabels(Map.of(Labels.CLUSTER, name)).build());
                b.getSpec().cluster = name;
                client.resource(b).create();
                LOG.infof("scheduled backup %s of cluster %s created (schedule '%s')", backup, key, cron);
                running = Optional.of(backup);
            }
        }
        String next = cron.nextAfter(now).map(Instant::toString).orElse(null);
        writes.clusterBackup(ns, name, b -> {
            b.nextScheduledBackup = next;
            return b;
        });
        return running;
    }

    /** When cluster {@code c} was created: the schedules count from then for a cluster without backups or drills. */
    static Optional<Instant> created(PostgresCluster c) {
        return Optional.ofNullable(c.getMetadata().getCreationTimestamp()).map(Instant::parse);
    }

    /** Whether backup {@code b} has ended, Completed or Failed. */
    static boolean finished(PostgresBackup b) {
        return b.getStatus() != null && b.getStatus().phase != null && BackupPhase.of(b.getStatus().phase).isFinal();
    }

    /** When the newest of {@code backups} began, or was asked for. */
    private static Optional<Instant> lastStarted(List<PostgresBackup> backups) {
        return backups.stream().map(b -> {
            String at = b.getStatus() != null && b.getStatus().startedAt != null ? b.getStatus().startedAt
                    : b.getMetadata().getCreationTimestamp();
            return at == null ? null : Instant.parse(at);
        }).filter(Objects::nonNull).max(Instant::compareTo);
    }
}
