package io.pgha.backup.kubernetes;

import io.pgha.api.schedule.CronSchedule;
import io.pgha.api.v1.cluster.BackupStatus;
import io.pgha.api.v1.cluster.PostgresCluster;
import io.pgha.backup.core.Drills;
import io.pgha.backup.service.BackupMetrics;
import io.pgha.backup.service.BackupVerifier;
import io.pgha.backup.service.CronFields;
import org.jboss.logging.Logger;

import java.io.IOException;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * {@code spec.backup.verify} on Kubernetes: when {@link Drills#due} says a slot has passed since the
 * cluster's last drill (read back from status.backup; for a cluster never drilled, since its
 * creation, as {@link KubernetesSchedules} counts, so that a fresh Knative process still drills),
 * the newest completed backup is drilled by {@link BackupVerifier}, as in local mode, and the
 * outcome goes into status.backup ({@link Drills#record}) and the metrics. Drills run on one thread
 * of their own, one at a time in this process: a drill takes minutes, which the adapter's round
 * must not wait for, and the scratch volume is sized for one extracted backup.
 */
final class KubernetesDrills implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(KubernetesDrills.class);

    /** A drill queued or running: the backup it verifies, and its end (empty when there was no backup to drill after all). */
    static final class Running {
        private volatile String backup;
        final CompletableFuture<Optional<BackupVerifier.Outcome>> ended = new CompletableFuture<>();

        private Running(String backup) {
            this.backup = backup;
        }

        String backup() {
            return backup;
        }
    }

    private final Supplier<List<PostgresCluster>> clusters;
    private final StatusWrites writes;
    private final BackupVerifier verifier;
    private final BackupMetrics metrics;
    private final Consumer<Runnable> onLoop;
    private final Clock clock;
    private final boolean startOnRounds;
    private final CronFields cronFields = new CronFields();
    /** The drill of each cluster (namespace/name) queued or running. */
    private final Map<String, Running> running = new ConcurrentHashMap<>();
    /** The last failure of each cluster's look at its drill schedule, so that one that repeats is logged once. */
    private final Map<String, String> lastFailure = new ConcurrentHashMap<>();
    /** When this process last ended a drill of each cluster: the informer's status may not show it yet. */
    private final Map<String, Instant> lastEnded = new ConcurrentHashMap<>();
    private final ExecutorService drills = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "pgha-restore-drill-kubernetes");
        t.setDaemon(true);
        return t;
    });

    /**
     * @param onLoop        runs a status write on the adapter's thread and returns once it ran
     * @param startOnRounds false on Knative, where only the drill trigger's call (which keeps the pod) starts a drill
     */
    KubernetesDrills(Supplier<List<PostgresCluster>> clusters, StatusWrites writes, BackupVerifier verifier, BackupMetrics metrics, Consumer<Runnable> onLoop, Clock clock, boolean startOnRounds) {
        this.clusters = clusters;
        this.writes = writes;
        this.verifier = verifier;
        this.metrics = metrics;
        this.onLoop = onLoop;
        this.clock = clock;
        this.startOnRounds = startOnRounds;
    }

    /** One look at every watched cluster's drill schedule at {@code now}: next slots, metrics read back, due drills started. */
    void tick(Instant now) {
        for (PostgresCluster c : clusters.get()) {
            if (c.getSpec() == null || c.getSpec().backup == null) {
                continue;
            }
            try {
                BackupStatus status = c.getStatus() == null ? null : c.getStatus().backup;
                metrics.of(c.getMetadata().getName()).knownDrills(status);
                Optional<CronSchedule> cron = cron(c);
                if (cron.isPresent() && startOnRounds) {
                    runIfDue(c, cron.get(), now);
                }
                String next = cron.flatMap(s -> s.nextAfter(now)).map(Instant::toString).orElse(null);
                if (!Objects.equals(next, status == null ? null : status.nextScheduledDrill)) {
                    writes.clusterBackup(c.getMetadata().getNamespace(), c.getMetadata().getName(), b -> {
                        b.nextScheduledDrill = next;
                        return b;
                    });
                }
                lastFailure.remove(key(c));
            } catch (IOException | RuntimeException e) {
                // every round meets it again until it is fixed: logged once per distinct reason
                if (!Objects.equals(lastFailure.put(key(c), String.valueOf(e.getMessage())), String.valueOf(e.getMessage()))) {
                    LOG.warnf("restore drill schedule of cluster %s: %s; no drill until that is fixed", key(c), e.getMessage());
                }
            }
        }
    }

    private Optional<CronSchedule> cron(PostgresCluster c) {
        String verify = c.getSpec().backup.verify;
        return verify == null ? Optional.empty() : cronFields.parse(key(c), "spec.backup.verify", verify, "scheduled restore drills");
    }

    /**
     * The drill of cluster {@code c} at {@code now}: the one queued or running, or one started now
     * when a slot of {@code cron} has passed since its last drill and it has a completed backup.
     * Empty when none runs and none is due (or there is nothing to drill yet: the slot is not spent).
     */
    synchronized Optional<Running> runIfDue(PostgresCluster c, CronSchedule cron, Instant now) throws IOException {
        String key = key(c);
        Running r = running.get(key);
        if (r != null) {
            return Optional.of(r);
        }
        Optional<Instant> last = Drills.lastDrill(c.getStatus() == null ? null : c.getStatus().backup);
        Instant ended = lastEnded.get(key);
        if (ended != null && (last.isEmpty() || ended.isAfter(last.get()))) {
            last = Optional.of(ended);
        }
        Instant firstSeen = KubernetesSchedules.created(c).orElse(now);
        if (!Drills.due(cron, last, firstSeen, now)) {
            return Optional.empty();
        }
        // the drill picks its backup itself once it holds its lease; this is the one it will most likely pick
        Optional<String> subject = verifier.newest(c.getMetadata().getName());
        if (subject.isEmpty()) {
            return Optional.empty();
        }
        Running started = new Running(subject.get());
        running.put(key, started);
        drills.execute(() -> drill(c.getMetadata().getNamespace(), c.getMetadata().getName(), started));
        return Optional.of(started);
    }

    /** The drill of cluster {@code namespace/cluster} queued or running, if any. */
    Optional<Running> running(String namespace, String cluster) {
        return Optional.ofNullable(running.get(namespace + "/" + cluster));
    }

    private void drill(String ns, String cluster, Running r) {
        String key = ns + "/" + cluster;
        Optional<BackupVerifier.Outcome> outcome = Optional.empty();
        Throwable failure = null;
        try {
            LOG.infof("restore drill of cluster %s started", key);
            outcome = verifier.verify(cluster, Optional.empty(), new BackupVerifier.Report() {
                @Override
                public void checked(String line) {
                    LOG.infof("restore drill of cluster %s: %s", key, line);
                }

                @Override
                public void progress(String line) {
                    LOG.infof("restore drill of cluster %s: %s", key, line);
                }

                @Override
                public void drilling(String backup) {
                    r.backup = backup;
                }
            });
            if (outcome.isPresent()) {
                record(ns, cluster, outcome.get(), clock.instant());
            } else {
                LOG.infof("restore drill of cluster %s: no completed backup to drill", key);
            }
        } catch (IOException | RuntimeException e) {
            LOG.warnf("restore drill of cluster %s: cannot read the repository: %s", key, e.getMessage());
            failure = e;
        } finally {
            // only after the status write: a look at the schedule meanwhile finds the drill still running
            running.remove(key, r);
        }
        if (failure != null) {
            r.ended.completeExceptionally(failure);
        } else {
            r.ended.complete(outcome);
        }
    }

    private void record(String ns, String cluster, BackupVerifier.Outcome o, Instant at) {
        if (o.problem().isEmpty()) {
            LOG.infof("restore drill of backup %s of cluster %s/%s passed", o.backup(), ns, cluster);
        } else {
            LOG.warnf("restore drill of backup %s of cluster %s/%s failed: %s", o.backup(), ns, cluster, o.problem().get());
        }
        metrics.of(cluster).drilled(o.problem(), at);
        lastEnded.put(ns + "/" + cluster, at);
        onLoop.accept(() -> writes.clusterBackup(ns, cluster, b -> {
            Drills.record(b, o.backup(), o.problem(), at);
            return b;
        }));
    }

    private static String key(PostgresCluster c) {
        return c.getMetadata().getNamespace() + "/" + c.getMetadata().getName();
    }

    @Override
    public void close() {
        drills.shutdownNow();
    }
}
