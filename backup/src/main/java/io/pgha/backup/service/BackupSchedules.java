package io.pgha.backup.service;

import io.pgha.api.v1.backup.PostgresBackup;
import io.pgha.api.v1.cluster.BackupSpec;
import io.pgha.api.v1.cluster.BackupStatus;
import io.pgha.api.v1.cluster.PostgresCluster;
import io.pgha.api.v1.cluster.PostgresClusterStatus;
import io.pgha.backup.core.Drills;
import io.pgha.api.schedule.CronSchedule;
import io.pgha.backup.wal.WalArchive;
import io.pgha.local.LocalLayout;
import io.quarkus.runtime.Startup;
import jakarta.annotation.PostConstruct;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.jboss.logging.Logger;

import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * Scheduled base backups and retention in local mode, for every cluster with a {@code spec.backup}:
 * a backup is requested when a slot of {@code spec.backup.schedule} has passed since the cluster's
 * last backup began (so slots missed while this service was down give one backup on its return,
 * not one per slot), and {@code spec.backup.retention} removes expired backups, their
 * PostgresBackup objects and the WAL no kept backup needs, unless a restore holds a lease on the prefix
 * (see {@link io.pgha.backup.core.Retention}). {@code spec.backup.verify} runs a restore drill of
 * the newest completed backup ({@link BackupVerifier}) when a slot of it has passed since the last
 * drill, whose time status.backup keeps (see {@link Drills}); drills run on their own thread, so
 * that a long one delays no scheduled backup.
 */
@Startup
@ApplicationScoped
public class BackupSchedules {
    private static final Logger LOG = Logger.getLogger(BackupSchedules.class);
    /** How often schedules are checked: a scheduled backup starts at most this long after its slot. */
    private static final Duration TICK = Duration.ofSeconds(5);

    @Inject
    BaseBackups backups;

    @Inject
    BackupCatalog catalog;

    @Inject
    WalArchives archives;

    @Inject
    BackupVerifier verifier;

    @Inject
    BackupMetrics metrics;

    /** When each cluster's last backup began, as this service counts for its schedule. */
    private final Map<String, Instant> lastRun = new ConcurrentHashMap<>();
    /** spec.backup.schedule and verify, an unusable one logged once. */
    private final CronFields cronFields = new CronFields();
    private final Map<String, Instant> lastRetention = new ConcurrentHashMap<>();
    /** When this service began watching each cluster's drill schedule: a cluster never drilled waits for the next slot after it. */
    private final Map<String, Instant> drillsWatchedSince = new ConcurrentHashMap<>();
    /** Clusters whose scheduled drill is queued or running. */
    private final Set<String> drilling = ConcurrentHashMap.newKeySet();
    private ScheduledExecutorService ticker;
    private ExecutorService drills;

    @PostConstruct
    void start() {
        ticker = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "pgha-backup-schedule");
            t.setDaemon(true);
            return t;
        });
        ticker.scheduleWithFixedDelay(this::tick, TICK.toMillis(), TICK.toMillis(), TimeUnit.MILLISECONDS);
        drills = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "pgha-restore-drill");
            t.setDaemon(true);
            return t;
        });
    }

    @PreDestroy
    void stop() {
        ticker.shutdownNow();
        drills.shutdownNow();
    }

    void tick() {
        for (String cluster : backups.clusters()) {
            try {
                Optional<BackupSpec> spec = backups.local().cluster(cluster).map(c -> c.getSpec().backup);
                if (spec.isEmpty()) {
                    continue;
                }
                schedule(cluster, spec.get(), Instant.now());
                scheduleDrill(cluster, spec.get(), Instant.now());
                Instant last = lastRetention.get(cluster);
                if (last == null || !Instant.now().isBefore(last.plus(RetentionRun.EVERY))) {
                    lastRetention.put(cluster, Instant.now());
                    retain(cluster, spec.get().retention, Instant.now());
                }
            } catch (IOException | RuntimeException e) {
                LOG.warnf("backup schedule and retention of cluster %s: %s", cluster, e.getMessage());
            }
        }
    }

    private void schedule(String cluster, BackupSpec spec, Instant now) {
        Optional<CronSchedule> parsed = cronFields.parse(cluster, "spec.backup.schedule", spec.schedule, "scheduled backups");
        if (parsed.isEmpty()) {
            writeStatus(cluster, b -> b.nextScheduledBackup, (b, v) -> b.nextScheduledBackup = v, null);
            return;
        }
        CronSchedule cron = parsed.get();
        Instant seen = lastRun.computeIfAbsent(cluster, c -> backups.lastStarted(c).orElse(now));
        // the newest backup, scheduled or asked for (pgha backup), serves the slots before its start,
        // as on Kubernetes: a slot just before an on-demand backup does not start another right after it
        Instant last = backups.lastStarted(cluster).filter(started -> started.isAfter(seen)).orElse(seen);
        if (cron.due(last, now)) {
            lastRun.put(cluster, now);
            try {
                String name = backups.request(cluster);
                LOG.infof("scheduled backup %s of cluster %s started (schedule '%s')", name, cluster, cron);
            } catch (BaseBackups.Refused e) {
                // a backup already running serves this slot as well
                LOG.warnf("scheduled backup of cluster %s not started: %s", cluster, e.getMessage());
            }
        }
        String next = cron.nextAfter(now).map(Instant::toString).orElse(null);
        writeStatus(cluster, b -> b.nextScheduledBackup, (b, v) -> b.nextScheduledBackup = v, next);
    }

    /** Queues a restore drill of the newest completed backup when spec.backup.verify says one is due. */
    private void scheduleDrill(String cluster, BackupSpec spec, Instant now) throws IOException {
        BackupStatus st = status(cluster);
        metrics.of(cluster).knownDrills(st);
        Optional<CronSchedule> cron = spec.verify == null ? Optional.empty()
                : cronFields.parse(cluster, "spec.backup.verify", spec.verify, "scheduled restore drills");
        if (cron.isEmpty()) {
            drillsWatchedSince.remove(cluster);
            writeStatus(cluster, b -> b.nextScheduledDrill, (b, v) -> b.nextScheduledDrill = v, null);
            return;
        }
        Instant watchedSince = drillsWatchedSince.computeIfAbsent(cluster, c -> now);
        if (!drilling.contains(cluster) && Drills.due(cron.get(), Drills.lastDrill(st), watchedSince, now)) {
            // the drill picks its backup itself once it holds its lease; here it only has to exist
            if (Drills.subject(catalog.completed(cluster)).isPresent() && drilling.add(cluster)) {
                drills.submit(() -> drill(cluster));
            }
        }
        String next = cron.get().nextAfter(now).map(Instant::toString).orElse(null);
        writeStatus(cluster, b -> b.nextScheduledDrill, (b, v) -> b.nextScheduledDrill = v, next);
    }

    private void drill(String cluster) {
        try {
            LOG.infof("scheduled restore drill of cluster %s started", cluster);
            Optional<BackupVerifier.Outcome> outcome = verifier.verify(cluster, Optional.empty(), new BackupVerifier.Report() {
                @Override
                public void checked(String line) {
                    LOG.debugf("restore drill of cluster %s: %s", cluster, line);
                }

                @Override
                public void progress(String line) {
                    LOG.debugf("restore drill of cluster %s: %s", cluster, line);
                }
            });
            outcome.ifPresent(o -> recordDrill(cluster, o.backup(), o.problem(), Instant.now()));
        } catch (IOException | RuntimeException e) {
            LOG.warnf("scheduled restore drill of cluster %s: cannot read the repository: %s", cluster, e.getMessage());
        } finally {
            drilling.remove(cluster);
        }
    }

    /** A drill's outcome (scheduled or asked for): status.backup and the metrics. */
    public void recordDrill(String cluster, String backup, Optional<String> problem, Instant at) {
        if (problem.isEmpty()) {
            LOG.infof("restore drill of backup %s of cluster %s passed", backup, cluster);
        } else {
            LOG.warnf("restore drill of backup %s of cluster %s failed: %s", backup, cluster, problem.get());
        }
        metrics.of(cluster).drilled(problem, at);
        update(cluster, b -> Drills.record(b, backup, problem, at));
    }

    /** Applies spec.backup.retention to one cluster's prefix; see {@link Retention} and {@link RetentionRun}. */
    void retain(String cluster, BackupSpec.Retention retention, Instant now) throws IOException {
        WalArchive archive = archives.of(cluster).archive();
        RetentionRun.Outcome out = RetentionRun.apply(archive.repository(), archive.layout(), catalog.completed(cluster),
                retention.window(), retention.minBackups, now, backups::forget);
        if (out.heldBy() == null) {
            forgetFailedBefore(cluster, out.plan().windowStart());
        }
        if (out.acted()) {
            LOG.infof("retention of cluster %s: %s", cluster, out.report(now));
        }
        String previous = Optional.ofNullable(status(cluster)).map(b -> b.lastRetention).orElse(null);
        out.statusLine(now, previous).ifPresent(line -> writeStatus(cluster, b -> b.lastRetention, (b, v) -> b.lastRetention = v, line));
    }

    /** Failed backups' objects older than every kept backup tell nothing anyone can still use. */
    private void forgetFailedBefore(String cluster, Optional<Instant> windowStart) {
        if (windowStart.isEmpty()) {
            return;
        }
        for (PostgresBackup b : backups.backups(cluster)) {
            if (RetentionRun.failedBefore(b, windowStart.get())) {
                backups.forget(b.getMetadata().getName());
            }
        }
    }

    private BackupStatus status(String cluster) {
        return backups.local().cluster(cluster).map(PostgresCluster::getStatus).map(st -> st.backup).orElse(null);
    }

    /**
     * Copies the fields of status.backup this class writes from {@code from} to {@code to}, for a
     * writer that rebuilds the rest of status.backup.
     */
    static void keepOwnFields(BackupStatus from, BackupStatus to) {
        to.nextScheduledBackup = from.nextScheduledBackup;
        to.lastRetention = from.lastRetention;
        to.nextScheduledDrill = from.nextScheduledDrill;
        to.lastVerifiedBackup = from.lastVerifiedBackup;
        to.lastVerifiedAt = from.lastVerifiedAt;
        to.lastDrillFailure = from.lastDrillFailure;
        to.lastDrillFailureAt = from.lastDrillFailureAt;
    }

    /** Sets one field of this service's status.backup, writing only when it changes. */
    private void writeStatus(String cluster, Function<BackupStatus, String> field, BiConsumer<BackupStatus, String> set, String value) {
        BackupStatus now = status(cluster);
        if (now != null && Objects.equals(field.apply(now), value)) {
            return;
        }
        update(cluster, b -> set.accept(b, value));
    }

    private void update(String cluster, Consumer<BackupStatus> change) {
        backups.local().store().updateStatus(PostgresCluster.class, LocalLayout.NAMESPACE, cluster, c -> {
            if (c.getStatus() == null) {
                c.setStatus(new PostgresClusterStatus());
            }
            if (c.getStatus().backup == null) {
                c.getStatus().backup = new BackupStatus();
            }
            change.accept(c.getStatus().backup);
            return c;
        });
    }
}
