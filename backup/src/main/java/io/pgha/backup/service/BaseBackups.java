package io.pgha.backup.service;

import io.pgha.api.ClusterNames;
import io.pgha.api.postgres.RecoveryMinimums;
import io.pgha.api.v1.backup.PostgresBackup;
import io.pgha.api.v1.cluster.BackupStatus;
import io.pgha.api.v1.cluster.PostgresCluster;
import io.pgha.api.v1.cluster.PostgresClusterStatus;
import io.pgha.api.v1.cluster.TopologyStatus;
import io.pgha.backup.core.BackupInfo;
import io.pgha.backup.core.BackupManifest;
import io.pgha.backup.core.BackupNames;
import io.pgha.backup.core.BackupPhase;
import io.pgha.backup.core.BackupSource;
import io.pgha.backup.core.RepositoryLayout;
import io.pgha.backup.core.WalFileName;
import io.pgha.backup.core.WalRange;
import io.pgha.backup.local.LocalCluster;
import io.pgha.backup.local.ReplicationConnection;
import io.pgha.backup.local.ServerBaseBackup;
import io.pgha.backup.core.ArchivingState;
import io.pgha.backup.core.RepositoryTarget;
import io.pgha.backup.repository.Repository;
import io.pgha.backup.wal.WalArchive;
import io.pgha.local.LocalLayout;
import io.pgha.local.PghaException;
import io.pgha.local.Sql;
import io.quarkus.runtime.Startup;
import jakarta.annotation.PostConstruct;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;

/**
 * Takes base backups in local mode, one per cluster at a time: the chosen instance runs
 * BASE_BACKUP and compresses its archive itself, with several threads (see {@link ServerBaseBackup});
 * those bytes go straight into the repository (no local copy, nothing decompressed or compressed
 * again here), then the manifest the server sent after them, then (once every WAL segment of the backup's range is
 * archived) backup.json, which makes it complete. Its PostgresBackup object shows each step;
 * the cluster's status.backup (this service's part of the status) is kept current every few seconds.
 */
@Startup
@ApplicationScoped
public class BaseBackups {
    private static final Logger LOG = Logger.getLogger(BaseBackups.class);
    private static final Duration PROGRESS_EVERY = Duration.ofSeconds(1);
    private static final Duration STATUS_EVERY = Duration.ofSeconds(2);
    private static final Duration WAL_POLL = Duration.ofMillis(500);
    /** Between two pg_switch_wal() while a standby's backup waits for its end segment to be archived. */
    private static final Duration SWITCH_EVERY = Duration.ofSeconds(5);
    /**
     * Ends the primary's current segment so that it is archived, each statement its own
     * transaction. The first writes a record (the commit of a transaction that took an ID):
     * pg_switch_wal() does nothing at a segment's first byte, where an idle primary stays after a
     * switch, and a standby's backup that ends there needs the record after its end
     * ({@link WalRange#needed}).
     */
    static final List<String> SWITCH_WAL = List.of("SELECT txid_current()", "SELECT pg_switch_wal()");
    /** How long a backup waits for the monitor to report a healthy instance to read from. */
    private static final Duration SOURCE_WAIT = Duration.ofSeconds(30);
    /** How the backup shows in pg_stat_activity. */
    private static final String APPLICATION_NAME = ClusterNames.BACKUP_APPLICATION_NAME;
    private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(10);
    /**
     * zstd threads the server compresses with besides its WAL sender; the backup service runs on
     * the instance's host in local mode, and PostgreSQL caps this at the machine's cores.
     */
    private static final int SERVER_COMPRESSION_WORKERS = Math.max(1, Runtime.getRuntime().availableProcessors());

    @ConfigProperty(name = "pgha.backup.wal-timeout")
    Duration walTimeout;

    @Inject
    WalArchives archives;

    @Inject
    BackupCatalog catalog;

    @Inject
    BackupMetrics metrics;

    private LocalCluster local;
    private BackupRecords records;
    /** The backup running for each cluster. */
    private final Map<String, String> running = new ConcurrentHashMap<>();
    private ExecutorService workers;
    private ScheduledExecutorService ticker;

    /** A request the service turns down, with the reason for the person who asked. */
    public static final class Refused extends Exception {
        public final boolean conflict;

        Refused(String message, boolean conflict) {
            super(message);
            this.conflict = conflict;
        }
    }

    /** A backup that cannot go on, with the reason its status will show. */
    private static final class BackupFailed extends Exception {
        BackupFailed(String message) {
            super(message);
        }
    }

    @PostConstruct
    void start() {
        // the state directory the service is configured with (pgha.backup.home, $PGHA_HOME by default)
        local = new LocalCluster(new LocalLayout(archives.home(), LocalLayout.fromEnvironment().portBase()));
        records = new BackupRecords(local.store());
        // a backup this service was running when it died will never finish
        for (PostgresBackup b : records.all()) {
            BackupPhase phase = BackupPhase.of(b.getStatus() == null ? BackupPhase.PENDING.text() : b.getStatus().phase);
            if (phase.afterRestart() != phase) {
                records.move(b.getMetadata().getName(), phase.afterRestart(), s -> {
                    s.error = "the backup service stopped while this backup ran";
                    s.finishedAt = now().toString();
                });
            }
        }
        workers = Executors.newCachedThreadPool(daemon("pgha-backup"));
        ticker = Executors.newSingleThreadScheduledExecutor(daemon("pgha-backup-status"));
        ticker.scheduleWithFixedDelay(this::writeClusterStatus, 0, STATUS_EVERY.toMillis(), TimeUnit.MILLISECONDS);
    }

    @PreDestroy
    void stop() {
        ticker.shutdownNow();
        workers.shutdownNow();
    }

    /** The clusters of the state directory; their metrics exist from the start. */
    List<String> clusters() {
        return local.clusters().stream().map(c -> c.getMetadata().getName()).toList();
    }

    List<PostgresBackup> backups(String cluster) {
        return records.of(cluster);
    }

    Optional<PostgresBackup> backup(String cluster, String name) {
        return records.of(cluster).stream().filter(b -> b.getMetadata().getName().equals(name)).findFirst();
    }

    /** status.backup.lastArchivedTime as this service last wrote it, null when never. */
    String lastArchivedTimeInStatus(String cluster) {
        return local.cluster(cluster).map(PostgresCluster::getStatus).map(st -> st.backup)
                .map(b -> b.lastArchivedTime).orElse(null);
    }

    /** When the newest backup of {@code cluster} this state directory knows of began (or was asked for). */
    Optional<Instant> lastStarted(String cluster) {
        return records.of(cluster).stream().map(b -> {
            String at = b.getStatus() != null && b.getStatus().startedAt != null ? b.getStatus().startedAt
                    : b.getMetadata().getCreationTimestamp();
            return at == null ? null : Instant.parse(at);
        }).filter(java.util.Objects::nonNull).max(Instant::compareTo);
    }

    /** Removes the PostgresBackup object of a backup retention removed from the repository. */
    void forget(String name) {
        local.store().delete(PostgresBackup.class, LocalLayout.NAMESPACE, name);
    }

    /** The store's copy of the clusters' status, for the parts of status.backup other classes of this service own. */
    LocalCluster local() {
        return local;
    }

    boolean known(String cluster) {
        return local.cluster(cluster).isPresent();
    }

    /** Starts a base backup of {@code cluster} and returns its name; it runs on in the background. */
    public String request(String cluster) throws Refused {
        if (!known(cluster)) {
            throw new Refused("no cluster " + cluster + " in " + LocalLayout.fromEnvironment().store(), false);
        }
        String name;
        synchronized (running) {
            refuseWhileRunning(cluster);
            Set<String> taken = new HashSet<>();
            records.all().forEach(b -> taken.add(b.getMetadata().getName()));
            try {
                catalog.completed(cluster).forEach(b -> taken.add(b.name()));
            } catch (IOException e) {
                throw new Refused("cannot read the repository (" + archives.target(cluster).location().describe() + "): " + e.getMessage(), false);
            }
            name = BackupNames.next(cluster, Instant.now(), taken);
            records.create(name, cluster);
            start(new BackupJob(cluster, name, localInstances(cluster), (next, change) -> records.move(name, next, change)));
        }
        return name;
    }

    /**
     * Starts {@code job}, whose record exists and is Pending; it runs on in the background. Refused
     * (a conflict) while another backup of the same cluster runs: one backup per cluster at a time.
     */
    public void start(BackupJob job) throws Refused {
        synchronized (running) {
            refuseWhileRunning(job.cluster());
            running.put(job.cluster(), job.name());
        }
        metrics.of(job.cluster());
        workers.submit(() -> run(job));
    }

    private void refuseWhileRunning(String cluster) throws Refused {
        String current = running.get(cluster);
        if (current != null) {
            throw new Refused("a backup of cluster " + cluster + " is already running: " + current
                    + " (one backup per cluster at a time)", true);
        }
    }

    /** Local mode: the instances on loopback, with the secrets the provisioner generated in the state directory. */
    private BackupJob.Instances localInstances(String cluster) {
        return new BackupJob.Instances() {
            @Override
            public TopologyStatus topology() {
                PostgresCluster pc = local.cluster(cluster).orElseThrow(() -> new IllegalStateException("cluster " + cluster + " was deleted"));
                return pc.getStatus() == null ? null : pc.getStatus().topology;
            }

            @Override
            public Connection sql(String instance) throws SQLException {
                return local.connect(cluster, instance);
            }

            @Override
            public ReplicationConnection replication(String instance, String applicationName, Duration connectTimeout) throws IOException {
                return ReplicationConnection.open(local.host(), local.port(cluster, instance), local.replication(cluster),
                        applicationName, connectTimeout);
            }
        };
    }

    private void run(BackupJob job) {
        String cluster = job.cluster();
        String name = job.name();
        Instant started = now();
        BackupMetrics.Meters meters = metrics.of(cluster);
        try {
            take(job, started);
            writeClusterStatus();
        } catch (BackupFailed | IOException | SQLException | RuntimeException e) {
            String reason = e instanceof SQLException ? "cannot query the instance: " + e.getMessage() : e.getMessage();
            LOG.errorf("backup %s of cluster %s failed: %s", name, cluster, reason);
            Instant at = now();
            job.record().move(BackupPhase.FAILED, s -> {
                s.error = reason;
                s.finishedAt = at.toString();
            });
            meters.failed(at);
        } finally {
            running.remove(cluster);
        }
    }

    private void take(BackupJob job, Instant started) throws BackupFailed, IOException, SQLException {
        String cluster = job.cluster();
        String name = job.name();
        BackupJob.Instances instances = job.instances();
        BackupSource source = chooseSource(instances);
        WalArchive archive = archives.of(cluster).archive();
        Repository repository = archive.repository();
        RepositoryLayout layout = archive.layout();
        RepositoryTarget target = archives.target(cluster);
        job.record().move(BackupPhase.RUNNING, s -> {
            s.startedAt = started.toString();
            s.instance = source.instance();
            s.location = target.locate(layout.backupPrefix(name));
        });
        long segmentSize;
        int pgVersion;
        long total;
        Map<String, String> settings = new LinkedHashMap<>();
        try (Connection c = instances.sql(source.instance())) {
            segmentSize = Long.parseLong(Sql.value(c, "SELECT setting FROM pg_settings WHERE name = 'wal_segment_size'"));
            pgVersion = Integer.parseInt(Sql.value(c, "SHOW server_version_num"));
            total = Long.parseLong(Sql.value(c, "SELECT sum(pg_database_size(oid)) FROM pg_database"));
            // a standby's values are at least its primary's, so they are enough for any restore of this backup
            try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(RecoveryMinimums.SQL)) {
                while (rs.next()) {
                    settings.put(rs.getString(1), rs.getString(2));
                }
            }
        } catch (SQLException e) {
            throw new BackupFailed("cannot reach instance " + source.instance() + ": " + e.getMessage());
        }
        job.record().move(BackupPhase.RUNNING, s -> {
            s.bytesDone = 0L;
            s.bytesTotal = total;
        });

        ServerBaseBackup backup;
        long storedTar;
        try (ReplicationConnection connection = connect(instances, source.instance())) {
            try {
                backup = ServerBaseBackup.start(connection, name, layout.compression(), SERVER_COMPRESSION_WORKERS);
                try (ProgressTicker progress = new ProgressTicker(ticker, PROGRESS_EVERY, name, backup::bytesDone, total,
                        (bytesDone, bytesTotal) -> job.record().move(BackupPhase.RUNNING, s -> {
                            s.bytesDone = bytesDone;
                            s.bytesTotal = bytesTotal;
                        }))) {
                    storedTar = repository.putIfAbsent(layout.baseTarKey(name), backup.archive());
                }
            } catch (IOException e) {
                throw new BackupFailed("the base backup from " + source.instance() + " failed: " + e.getMessage());
            }
        }
        if (storedTar < 0) {
            throw new BackupFailed("the repository already holds " + layout.baseTarKey(name));
        }
        long dataBytes = backup.bytesDone();
        byte[] manifest = backup.manifest().orElseThrow(() -> new BackupFailed("the server sent no backup_manifest"));
        long storedManifest = repository.putIfAbsent(layout.manifestKey(name), new ByteArrayInputStream(layout.compression().compress(manifest)));
        List<WalRange> ranges;
        try {
            ranges = BackupManifest.walRanges(manifest);
        } catch (IllegalArgumentException e) {
            throw new BackupFailed(e.getMessage());
        }
        job.record().move(BackupPhase.RUNNING, s -> {
            s.bytesDone = dataBytes;
            s.bytesTotal = Math.max(dataBytes, total);
            s.beginLsn = ranges.get(0).start().toString();
            s.endLsn = ranges.get(ranges.size() - 1).end().toString();
            s.timeline = (int) ranges.get(ranges.size() - 1).timeline();
        });
        if (source.fromStandby()) {
            // the standby's end segment is archived only once the primary moves on to the next one
            switchWal(instances, source.primary());
        }
        awaitWal(cluster, instances, ranges, segmentSize, source);

        WalRange first = ranges.get(0);
        WalRange last = ranges.get(ranges.size() - 1);
        List<WalFileName> needed = WalRange.needed(ranges, segmentSize);
        Instant finished = now();
        BackupInfo info = new BackupInfo(name, cluster, (int) last.timeline(), first.start().toString(), last.end().toString(),
                needed.get(0).name(), needed.get(needed.size() - 1).name(),
                started.toString(), finished.toString(), storedTar + storedManifest, dataBytes, layout.compression().id(), pgVersion,
                settings);
        // written last: its presence is what makes the backup complete for a restore
        if (!repository.putIfAbsent(layout.backupInfoKey(name), info.toJson())) {
            throw new BackupFailed("the repository already holds " + layout.backupInfoKey(name));
        }
        job.record().move(BackupPhase.COMPLETED, s -> {
            s.finishedAt = finished.toString();
            s.size = info.sizeBytes();
            s.error = null;
        });
        metrics.of(cluster).succeeded(finished, Duration.between(started, finished));
        LOG.infof("backup %s of cluster %s completed from %s: %d bytes stored for %d bytes of data, WAL %s to %s",
                name, cluster, source.instance(), info.sizeBytes(), dataBytes, info.beginWal(), info.endWal());
    }

    private static ReplicationConnection connect(BackupJob.Instances instances, String instance) throws BackupFailed {
        try {
            return instances.replication(instance, APPLICATION_NAME, CONNECT_TIMEOUT);
        } catch (IOException e) {
            throw new BackupFailed("cannot open a replication connection to instance " + instance + ": " + e.getMessage());
        }
    }

    /** Waits until the archive holds every segment of {@code ranges}; fails naming the first one missing. */
    private void awaitWal(String cluster, BackupJob.Instances instances, List<WalRange> ranges, long segmentSize, BackupSource source)
            throws BackupFailed, IOException {
        Instant deadline = Instant.now().plus(walTimeout);
        Instant nextSwitch = Instant.now().plus(SWITCH_EVERY);
        WalArchives.Entry pushes = archives.of(cluster);
        while (true) {
            long seen = pushes.pushes();
            Optional<WalFileName> missing = WalRange.firstMissing(ranges, segmentSize, catalog.archivedSegments(cluster));
            if (missing.isEmpty()) {
                return;
            }
            if (Instant.now().isAfter(deadline)) {
                throw new BackupFailed("WAL segment " + missing.get().name() + " of the backup's range did not reach the archive within "
                        + walTimeout.toSeconds() + " s" + archiverFailure(instances, source.primary()));
            }
            if (source.fromStandby() && Instant.now().isAfter(nextSwitch)) {
                switchWal(instances, source.primary());
                nextSwitch = Instant.now().plus(SWITCH_EVERY);
            }
            try {
                // woken by the next push: the end segment usually arrives a moment after the backup's end
                pushes.awaitPushAfter(seen, WAL_POLL);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new BackupFailed("the backup service is stopping");
            }
        }
    }

    /** What the primary's archiver last reported as failed, to put in a failure's reason. */
    private static String archiverFailure(BackupJob.Instances instances, String primary) {
        try (Connection c = instances.sql(primary)) {
            String failed = Sql.value(c, "SELECT last_failed_wal || ' at ' || last_failed_time FROM pg_stat_archiver "
                    + "WHERE last_failed_time IS NOT NULL AND (last_archived_time IS NULL OR last_failed_time > last_archived_time)");
            return failed == null ? "" : " (the primary " + primary + " fails to archive: last failure " + failed + ")";
        } catch (SQLException | RuntimeException e) {
            return "";
        }
    }

    private static void switchWal(BackupJob.Instances instances, String primary) throws BackupFailed {
        try (Connection c = instances.sql(primary); Statement st = c.createStatement()) {
            c.setAutoCommit(true);
            for (String sql : SWITCH_WAL) {
                st.execute(sql);
            }
        } catch (SQLException e) {
            throw new BackupFailed("cannot switch WAL on the primary " + primary + ": " + e.getMessage());
        }
    }

    /**
     * This service's part of each cluster's status: the last backup, the recoverable window's
     * start, the newest archived segment and the last failed push; the metrics follow the same facts.
     */
    void writeClusterStatus() {
        try {
            for (String cluster : clusters()) {
                UnaryOperator<BackupStatus> status = clusterStatus(cluster);
                local.store().updateStatus(PostgresCluster.class, LocalLayout.NAMESPACE, cluster, c -> {
                    if (c.getStatus() == null) {
                        c.setStatus(new PostgresClusterStatus());
                    }
                    c.getStatus().backup = status.apply(c.getStatus().backup == null ? new BackupStatus() : c.getStatus().backup);
                    return c;
                });
            }
        } catch (IOException | RuntimeException e) {
            LOG.warnf("cannot update the clusters' backup status: %s", e.getMessage());
        }
    }

    /**
     * This service's part of {@code cluster}'s status.backup, on either platform: read from the
     * repository and the pushes seen now, it turns the status as it is into the status to write,
     * keeping the fields other parts of the service write. The metrics follow the same facts.
     */
    public UnaryOperator<BackupStatus> clusterStatus(String cluster) throws IOException {
        BackupMetrics.Meters meters = metrics.of(cluster);
        WalArchives.Entry wal = archives.of(cluster);
        List<BackupInfo> completed = catalog.completed(cluster);
        Optional<WalFileName> newest = catalog.newestSegment(cluster);
        completed.stream().map(b -> Instant.parse(b.finishedAt())).max(Instant::compareTo).ifPresent(meters::knownSuccess);
        BackupInfo.recoverableFrom(completed).ifPresent(meters::recoveryWindowStart);
        return before -> {
            BackupStatus b = new BackupStatus();
            completed.stream().map(BackupInfo::finishedAt).max(String::compareTo).ifPresent(t -> b.lastSuccessfulBackup = t);
            BackupInfo.recoverableFrom(completed).ifPresent(t -> b.firstRecoverabilityPoint = t.toString());
            b.lastArchivedWal = newest.map(WalFileName::name).orElse(null);
            long lastArchived = wal.lastSuccessEpochSeconds().get();
            b.lastArchivedTime = lastArchived > 0 ? Instant.ofEpochSecond(lastArchived).toString() : before.lastArchivedTime;
            ArchivingState.Event failure = wal.state().lastFailure().orElse(null);
            b.lastFailedWal = failure != null ? failure.file() : before.lastFailedWal;
            b.lastFailedTime = failure != null ? failure.at().truncatedTo(ChronoUnit.SECONDS).toString() : before.lastFailedTime;
            // written by the schedules and drills, kept as they are
            BackupSchedules.keepOwnFields(before, b);
            return b;
        };
    }

    /** Microseconds, the precision PostgreSQL's recovery_target_time takes. */
    private static Instant now() {
        return Instant.now().truncatedTo(ChronoUnit.MICROS);
    }

    /**
     * The instance to back up, from the monitor's view of the cluster. The monitor reports health a
     * moment after the instances start (a starting monitor first waits out the lease), so a backup
     * asked for right after `pgha up` waits for that report, up to {@link #SOURCE_WAIT}.
     */
    private BackupSource chooseSource(BackupJob.Instances instances) throws BackupFailed {
        Instant deadline = now().plus(SOURCE_WAIT);
        while (true) {
            try {
                return BackupSource.choose(instances.topology());
            } catch (IllegalStateException e) {
                if (now().isAfter(deadline)) {
                    throw new BackupFailed("no instance to back up: " + e.getMessage());
                }
            }
            sleep(WAL_POLL);
        }
    }

    private static void sleep(Duration d) throws BackupFailed {
        try {
            Thread.sleep(d.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new BackupFailed("the backup service is stopping");
        }
    }

    private static java.util.concurrent.ThreadFactory daemon(String name) {
        return r -> {
            Thread t = new Thread(r, name);
            t.setDaemon(true);
            return t;
        };
    }
}
