package io.pgha.backup.kubernetes;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.pgha.api.schedule.CronSchedule;
import io.pgha.api.v1.backup.PostgresBackup;
import io.pgha.api.v1.backup.PostgresBackupStatus;
import io.pgha.api.v1.cluster.BackupStatus;
import io.pgha.api.v1.cluster.PostgresCluster;
import io.pgha.backup.core.BackupPhase;
import io.pgha.backup.core.Drills;
import io.pgha.backup.service.BackupCatalog;
import io.pgha.backup.service.BackupJob;
import io.pgha.backup.service.BackupMetrics;
import io.pgha.backup.service.BackupVerifier;
import io.pgha.backup.service.BaseBackups;
import io.pgha.backup.service.WalArchives;
import org.jboss.logging.Logger;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The backup service on Kubernetes ({@code pgha.platform=kubernetes}): it watches PostgresBackups
 * and PostgresClusters in one namespace or in every namespace it may read, takes a base backup for
 * each new PostgresBackup (from this service, over a replication connection to the chosen
 * instance's pod, exactly as local mode does: see {@link BaseBackups}), owns each PostgresBackup's
 * status and each cluster's {@code status.backup}, and runs {@code spec.backup.schedule}
 * ({@link KubernetesSchedules}), retention ({@link KubernetesRetention}) and {@code spec.backup.verify}
 * ({@link KubernetesDrills}). Everything that changes objects runs on one thread, so its writes
 * never race each other; the backups themselves run on {@link BaseBackups}' workers, the drills on
 * a thread of their own.
 */
final class KubernetesBackups implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(KubernetesBackups.class);

    private final KubernetesClient client;
    private final Optional<String> namespace;
    private final BaseBackups backups;
    private final WalArchives archives;
    private final Clock clock;
    private final StatusWrites writes;
    private final Path caDirectory;
    private final ScheduledExecutorService loop;
    private final KubernetesTargets targets;
    private final KubernetesSchedules schedules;
    private final KubernetesRetention retention;
    private final KubernetesDrills drills;
    private final ArchiveBacklog backlog;
    /** The backups this process admitted (namespace/name): a Pending or Running one not among them was left by a predecessor. */
    private final Set<String> admitted = ConcurrentHashMap.newKeySet();
    /** Who waits for which backup (namespace/name) to end: the schedule triggers' calls. */
    private final Map<String, CompletableFuture<PostgresBackupStatus>> waiting = new ConcurrentHashMap<>();
    private SharedIndexInformer<PostgresCluster> clusterInformer;
    private SharedIndexInformer<PostgresBackup> backupInformer;

    /**
     * @param workDirectory  a directory only this service reads: the CA certificates and S3 key pairs it writes for its clients
     * @param knativeService the Knative Service this process runs as, if it does (Knative sets {@code K_SERVICE})
     */
    KubernetesBackups(KubernetesClient client, Optional<String> namespace, BaseBackups backups, WalArchives archives,
                      BackupCatalog catalog, BackupVerifier verifier, BackupMetrics metrics, Clock clock, Path workDirectory,
                      Optional<String> knativeService) {
        this.client = client;
        this.namespace = namespace;
        this.backups = backups;
        this.archives = archives;
        this.clock = clock;
        this.writes = new StatusWrites(client);
        try {
            this.caDirectory = Files.createDirectories(workDirectory.resolve("ca"));
            Path credentials = Files.createDirectories(workDirectory.resolve("s3"));
            this.targets = new KubernetesTargets(client, this::clusters, this::listClusters, credentials, knativeService);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create the backup service's work directory " + workDirectory + ": " + e.getMessage(), e);
        }
        this.schedules = new KubernetesSchedules(client, this::clusters, writes);
        this.retention = new KubernetesRetention(client, this::clusters, writes, archives, catalog);
        // on Knative a drill started by a round has no request keeping the pod: the drill trigger's call starts them
        this.drills = new KubernetesDrills(this::clusters, writes, verifier, metrics, this::onLoop, clock, knativeService.isEmpty());
        this.backlog = new ArchiveBacklog(this::clusters, (ns, cluster) -> new PodInstances(client, ns, cluster, caDirectory), archives);
        this.loop = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "pgha-backup-kubernetes");
            t.setDaemon(true);
            return t;
        });
    }

    /** The segments waiting in the instance pods' archive_status: one connection per instance, so less often than a round. */
    static final Duration BACKLOG_EVERY = Duration.ofSeconds(15);

    ArchiveBacklog backlog() {
        return backlog;
    }

    KubernetesTargets targets() {
        return targets;
    }

    /** Starts the informers and, every {@code every}, the schedules, status.backup and a look for backups a watch event missed. */
    KubernetesBackups start(Duration every) {
        var clusterResources = client.resources(PostgresCluster.class);
        var backupResources = client.resources(PostgresBackup.class);
        clusterInformer = namespace.isPresent() ? clusterResources.inNamespace(namespace.get()).inform()
                : clusterResources.inAnyNamespace().inform();
        ResourceEventHandler<PostgresBackup> onBackup = new ResourceEventHandler<>() {
            @Override
            public void onAdd(PostgresBackup b) {
                loop.execute(() -> admit(b.getMetadata().getNamespace(), b.getMetadata().getName()));
            }

            @Override
            public void onUpdate(PostgresBackup before, PostgresBackup after) {
                // only this service writes a backup's status; a new object is all that needs an answer,
                // beyond telling a trigger's call that the backup it waits for has ended
                if (KubernetesSchedules.finished(after)) {
                    Optional.ofNullable(waiting.remove(key(after))).ifPresent(f -> f.complete(after.getStatus()));
                }
            }

            @Override
            public void onDelete(PostgresBackup b, boolean unknownFinalState) {
                // the repository keeps a deleted object's backup; retention decides about it
                Optional.ofNullable(waiting.remove(key(b))).ifPresent(f -> f.completeExceptionally(
                        new IllegalStateException("PostgresBackup " + key(b) + " was deleted before it ended")));
            }
        };
        backupInformer = namespace.isPresent() ? backupResources.inNamespace(namespace.get()).inform(onBackup)
                : backupResources.inAnyNamespace().inform(onBackup);
        loop.scheduleWithFixedDelay(() -> roundNow(clock.instant()), every.toMillis(), every.toMillis(), TimeUnit.MILLISECONDS);
        backlog.start(BACKLOG_EVERY);
        LOG.infof("pgha backup service watching PostgresBackups in %s at %s", namespace.map(n -> "namespace " + n).orElse("every namespace"),
                client.getMasterUrl());
        return this;
    }

    /**
     * What a call of cluster {@code ns/cluster}'s schedule trigger asks: its schedule, looked at now
     * on the adapter's thread exactly as a round does (so a slot is served once, whoever comes
     * first). Returns the cluster's backup that has not ended, the one just created or one that
     * serves the slot, if any. IllegalArgumentException with one line when this service does not
     * watch the namespace, there is no such cluster, or it has no schedule.
     */
    Optional<String> runSchedule(String ns, String cluster) {
        PostgresCluster c = watched(ns, cluster);
        if (c.getSpec() == null || c.getSpec().backup == null || c.getSpec().backup.schedule == null) {
            throw new IllegalArgumentException("cluster " + ns + "/" + cluster + " has no spec.backup.schedule");
        }
        try {
            return loop.submit(() -> schedules.schedule(c, clock.instant())).get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while looking at the schedule of " + ns + "/" + cluster, e);
        } catch (ExecutionException e) {
            throw new IllegalStateException("the schedule of " + ns + "/" + cluster + ": " + e.getCause().getMessage(), e.getCause());
        }
    }

    /**
     * What a call of cluster {@code ns/cluster}'s drill trigger asks: its drill queued or running,
     * or one started now if {@code spec.backup.verify} says one is due (on the real clock), as a
     * round would decide it. Empty when none runs and none is due. IllegalArgumentException with
     * one line when this service does not watch the namespace, there is no such cluster, or it has
     * no usable spec.backup.verify; IOException when the repository cannot be read.
     */
    Optional<KubernetesDrills.Running> runDrill(String ns, String cluster) throws IOException {
        PostgresCluster c = watched(ns, cluster);
        String verify = c.getSpec() == null || c.getSpec().backup == null ? null : c.getSpec().backup.verify;
        if (verify == null) {
            throw new IllegalArgumentException("cluster " + ns + "/" + cluster + " has no spec.backup.verify");
        }
        CronSchedule cron;
        try {
            cron = CronSchedule.parse(verify);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("cluster " + ns + "/" + cluster + ": spec.backup.verify: " + e.getMessage(), e);
        }
        return drills.runIfDue(c, cron, clock.instant());
    }

    /**
     * What a call waiting on the drill of backup {@code backup} learns: the cluster's drill still
     * queued or running (which serves the call that named it), else the newest drill status.backup
     * records when it was one of that backup: its problem, empty when it passed.
     * IllegalArgumentException with one line when neither says anything of it.
     */
    DrillWait drillOf(String ns, String cluster, String backup) {
        Optional<KubernetesDrills.Running> r = drills.running(ns, cluster);
        if (r.isPresent()) {
            return new DrillWait(r, Optional.empty());
        }
        PostgresCluster c = watched(ns, cluster);
        BackupStatus status = c.getStatus() == null ? null : c.getStatus().backup;
        Optional<Optional<String>> recorded = Drills.newestOf(status, backup);
        if (recorded.isEmpty()) {
            throw new IllegalArgumentException("no restore drill of backup " + backup + " of cluster " + ns + "/" + cluster
                    + " runs here, and it is not the newest drill status.backup records");
        }
        return new DrillWait(Optional.empty(), recorded);
    }

    /** Either a drill still running, or the recorded end of one (its problem, empty when it passed). */
    record DrillWait(Optional<KubernetesDrills.Running> running, Optional<Optional<String>> recorded) {
    }

    /** Cluster {@code ns/cluster} as the API server has it now; IllegalArgumentException with one line when it is not watched here. */
    private PostgresCluster watched(String ns, String cluster) {
        if (namespace.isPresent() && !namespace.get().equals(ns)) {
            throw new IllegalArgumentException("this backup service watches namespace " + namespace.get() + " only, not " + ns);
        }
        // read now, not from the informer: the call may be what just woke this process
        PostgresCluster c = client.resources(PostgresCluster.class).inNamespace(ns).withName(cluster).get();
        if (c == null) {
            throw new IllegalArgumentException("no PostgresCluster " + cluster + " in namespace " + ns);
        }
        return c;
    }

    /** Runs {@code write} on the adapter's thread, where every write of objects happens, and returns once it ran. */
    private void onLoop(Runnable write) {
        try {
            loop.submit(write).get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while writing a status", e);
        } catch (ExecutionException e) {
            throw e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e.getCause().getMessage(), e.getCause());
        }
    }

    /** {@code name}, when it is a PostgresBackup of cluster {@code ns/cluster}; IllegalArgumentException with one line otherwise. */
    String backupOf(String ns, String cluster, String name) {
        PostgresBackup b = client.resources(PostgresBackup.class).inNamespace(ns).withName(name).get();
        if (b == null || b.getSpec() == null || !cluster.equals(b.getSpec().cluster)) {
            throw new IllegalArgumentException("no PostgresBackup " + name + " of cluster " + cluster + " in namespace " + ns);
        }
        return name;
    }

    /**
     * Completes with backup {@code ns/name}'s status once it is Completed or Failed (at once when it
     * already is); exceptionally when it is deleted first. Calls waiting for one backup share the
     * future: copy it before bounding the wait.
     */
    CompletableFuture<PostgresBackupStatus> ended(String ns, String name) {
        CompletableFuture<PostgresBackupStatus> f = waiting.computeIfAbsent(ns + "/" + name, k -> new CompletableFuture<>());
        // it may have ended before the future was there, with no update to come
        PostgresBackup now = client.resources(PostgresBackup.class).inNamespace(ns).withName(name).get();
        if (now == null) {
            waiting.remove(ns + "/" + name, f);
            f.completeExceptionally(new IllegalStateException("PostgresBackup " + ns + "/" + name + " no longer exists"));
        } else if (KubernetesSchedules.finished(now)) {
            waiting.remove(ns + "/" + name, f);
            f.complete(now.getStatus());
        }
        return f;
    }

    private static String key(PostgresBackup b) {
        return b.getMetadata().getNamespace() + "/" + b.getMetadata().getName();
    }

    List<PostgresCluster> clusters() {
        return clusterInformer == null ? List.of() : clusterInformer.getStore().list();
    }

    /** The watched PostgresClusters as the API server has them now. */
    private List<PostgresCluster> listClusters() {
        var all = client.resources(PostgresCluster.class);
        return (namespace.isPresent() ? all.inNamespace(namespace.get()).list() : all.inAnyNamespace().list()).getItems();
    }

    /**
     * One round at {@code now} (the schedules' clock; tests pass their own), on the adapter's thread:
     * backups a watch event missed, the schedules, and status.backup.
     */
    void round(Instant now) {
        try {
            loop.submit(() -> roundNow(now)).get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException e) {
            LOG.warnf("backup service round failed: %s", e.getCause().getMessage());
        }
    }

    private void roundNow(Instant now) {
        try {
            backupInformer.getStore().list().stream().filter(b -> b.getStatus() == null)
                    .forEach(b -> admit(b.getMetadata().getNamespace(), b.getMetadata().getName()));
            schedules.tick(now);
            drills.tick(now);
            // on the real clock: a round's time is the schedules' (tests move it), what retention
            // removes must follow the time that really passed
            retention.tick(clock.instant());
            for (PostgresCluster c : clusters()) {
                if (c.getSpec() != null && c.getSpec().backup != null) {
                    writeClusterStatus(c);
                }
            }
        } catch (RuntimeException e) {
            LOG.warnf("backup service round failed: %s", e.getMessage());
        }
    }

    private void writeClusterStatus(PostgresCluster c) {
        try {
            writes.clusterBackup(c.getMetadata().getNamespace(), c.getMetadata().getName(), backups.clusterStatus(c.getMetadata().getName()));
            // the archive watch keeps the state (pushes, failures, an unwritable repository); on Kubernetes it lands here
            writes.clusterCondition(c.getMetadata().getNamespace(), c.getMetadata().getName(),
                    archives.of(c.getMetadata().getName()).state().condition());
        } catch (IOException | RuntimeException e) {
            LOG.warnf("cannot update status.backup of cluster %s/%s: %s", c.getMetadata().getNamespace(), c.getMetadata().getName(),
                    e.getMessage());
        }
    }

    /**
     * Answers PostgresBackup {@code ns/name}: a new one starts (or fails at once with the reason);
     * one found Pending or Running that this process never started was left by a predecessor and
     * is failed, since nothing will finish it.
     */
    private void admit(String ns, String name) {
        PostgresBackup b = client.resources(PostgresBackup.class).inNamespace(ns).withName(name).get();
        if (b == null || admitted.contains(ns + "/" + name)) {
            return;
        }
        BackupJob.Record record = writes.record(ns, name);
        if (b.getStatus() != null && b.getStatus().phase != null) {
            BackupPhase phase = BackupPhase.of(b.getStatus().phase);
            if (phase.afterRestart() != phase) {
                fail(record, "the backup service stopped while this backup ran");
            }
            return;
        }
        admitted.add(ns + "/" + name);
        String cluster = b.getSpec() == null ? null : b.getSpec().cluster;
        try {
            PostgresCluster pc = cluster == null ? null : client.resources(PostgresCluster.class).inNamespace(ns).withName(cluster).get();
            if (pc == null) {
                throw new IllegalArgumentException("spec.cluster: no PostgresCluster " + cluster + " in namespace " + ns);
            }
            // the name is unambiguous, the cluster has spec.backup, and its repository (and credentials Secret) is usable
            targets.target(cluster);
            record.move(BackupPhase.PENDING, s -> { });
            backups.start(new BackupJob(cluster, name, new PodInstances(client, ns, cluster, caDirectory), record));
            LOG.infof("backup %s/%s of cluster %s started", ns, name, cluster);
        } catch (BaseBackups.Refused | IllegalArgumentException | IllegalStateException | UncheckedIOException e) {
            LOG.warnf("backup %s/%s of cluster %s refused: %s", ns, name, cluster, e.getMessage());
            fail(record, e.getMessage());
        }
    }

    private void fail(BackupJob.Record record, String reason) {
        String at = clock.instant().truncatedTo(ChronoUnit.MICROS).toString();
        record.move(BackupPhase.FAILED, s -> {
            s.error = reason;
            s.finishedAt = at;
        });
    }

    @Override
    public void close() {
        drills.close();
        backlog.close();
        loop.shutdownNow();
        if (backupInformer != null) {
            backupInformer.close();
        }
        if (clusterInformer != null) {
            clusterInformer.close();
        }
    }
}
