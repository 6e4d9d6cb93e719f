package io.pgha.backup.restore;

import io.pgha.api.v1.cluster.BackupSpec;
import io.pgha.api.v1.cluster.BootstrapSpec;
import io.pgha.backup.core.BackupInfo;
import io.pgha.backup.core.BackupManifest;
import io.pgha.backup.core.Compression;
import io.pgha.backup.core.ManifestCheckedTar;
import io.pgha.backup.core.RecoveryPlanner;
import io.pgha.backup.core.RepositoryLayout;
import io.pgha.backup.core.RepositoryTarget;
import io.pgha.backup.core.WalFileName;
import io.pgha.backup.core.WalSummary;
import io.pgha.backup.repository.ChecksumMismatchException;
import io.pgha.backup.repository.Repository;
import io.pgha.backup.wal.WalArchive;
import io.pgha.local.PgBinaries;

import org.jboss.logging.Logger;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;

/**
 * The restores this backup service serves, one per restoring cluster: where its source is, the
 * backup it starts from, and the read-ahead that feeds its restore_command. Kept in memory: when
 * the service restarts during a restore, restore_command fails (never "no such file") and the
 * restore fails rather than ending early.
 */
public final class RestoreSessions {
    private final Function<String, RepositoryTarget> ownTargets;
    private final Function<RepositoryTarget.Location, Repository> repositories;
    private final Path home;
    private final ExecutorService readers;
    private final int readAhead;
    private final Optional<Path> spool;
    private static final Logger LOG = Logger.getLogger(RestoreSessions.class);
    private final Map<String, Session> sessions = new ConcurrentHashMap<>();
    /** The lease each restore holds on its source's prefix, so that retention leaves it alone. */
    private final Map<String, RestoreLeases.Held> leases = new ConcurrentHashMap<>();

    /**
     * @param ownTargets   where a restoring cluster archives once it runs (its spec.backup, else the
     *                     default directory); IllegalArgumentException naming the field when it cannot be used
     * @param repositories opens a repository's location
     * @param home         resolves relative credentials files of a source repository
     * @param spool        where restore_command looks for segments before it asks (local mode), used
     *                     for a restore that starts while the directory exists
     */
    public RestoreSessions(Function<String, RepositoryTarget> ownTargets,
                           Function<RepositoryTarget.Location, Repository> repositories, Path home,
                           ExecutorService readers, int readAhead, Optional<Path> spool) {
        this.ownTargets = ownTargets;
        this.repositories = repositories;
        this.home = home;
        this.readers = readers;
        this.readAhead = readAhead;
        this.spool = spool;
    }

    /**
     * One restore: the source and what restore_command reads through. {@code layout} is the
     * backup's: its compression names base.tar's and the manifest's keys (WAL is found under any).
     */
    public static final class Session {
        private final Repository repository;
        private final RepositoryLayout layout;
        private final BackupInfo backup;
        private final String window;
        private final WalPrefetcher wal;
        /**
         * The backup_manifest, read and checked from the moment the plan is made, so that the
         * extraction that follows finds it parsed (reading, hashing and parsing it took 0.2 s of each
         * restore's start here, in code this service had not run before). Taken once: an extraction
         * tried again reads it anew.
         */
        private final AtomicReference<CompletableFuture<Map<String, BackupManifest.File>>> manifestAhead = new AtomicReference<>();

        public Session(Repository repository, RepositoryLayout layout, BackupInfo backup, String window, WalPrefetcher wal) {
            this.repository = repository;
            this.layout = layout;
            this.backup = backup;
            this.window = window;
            this.wal = wal;
        }

        public RepositoryLayout layout() {
            return layout;
        }

        public BackupInfo backup() {
            return backup;
        }

        /** The recoverable window the target was checked against, as words for the log and the answer. */
        public String window() {
            return window;
        }

        public WalPrefetcher wal() {
            return wal;
        }

        /**
         * A file of the backup, decompressed, streamed from the repository: a checksum mismatch
         * surfaces as an IOException at the end of the stream, so a corrupt backup never extracts quietly.
         */
        public InputStream open(String key) throws IOException {
            InputStream stored = repository.open(key)
                    .orElseThrow(() -> new IOException(key + " of backup " + backup.name() + " is missing from the repository"));
            return layout.compression().decompressing(stored);
        }

        /** Starts reading the manifest; not on the readers, where the plan has just queued the first segments' reads. */
        void readManifestAhead() {
            manifestAhead.set(CompletableFuture.supplyAsync(() -> {
                try {
                    return readManifest();
                } catch (IOException | ManifestCheckedTar.Mismatch e) {
                    throw new CompletionException(e);
                }
            }));
        }

        /** The files the backup's backup_manifest lists; Mismatch when the manifest is not whole. */
        public Map<String, BackupManifest.File> manifestFiles() throws IOException, ManifestCheckedTar.Mismatch {
            CompletableFuture<Map<String, BackupManifest.File>> ahead = manifestAhead.getAndSet(null);
            if (ahead == null) {
                return readManifest();
            }
            try {
                return ahead.get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while reading the backup_manifest of " + backup.name(), e);
            } catch (ExecutionException e) {
                if (e.getCause() instanceof ManifestCheckedTar.Mismatch mismatch) {
                    throw mismatch;
                }
                if (e.getCause() instanceof IOException io) {
                    throw io;
                }
                throw new IOException("cannot read the backup_manifest of " + backup.name() + ": " + e.getCause(), e.getCause());
            }
        }

        private Map<String, BackupManifest.File> readManifest() throws IOException, ManifestCheckedTar.Mismatch {
            byte[] manifest;
            try (InputStream in = open(layout.manifestKey(backup.name()))) {
                manifest = in.readAllBytes();
            }
            try {
                return BackupManifest.files(manifest);
            } catch (IllegalArgumentException e) {
                throw new ManifestCheckedTar.Mismatch(e.getMessage());
            }
        }
    }

    /** A refusal: the restore cannot start, for the reason given (one line). */
    public static final class RefusedException extends Exception {
        public RefusedException(String message) {
            super(message);
        }
    }

    /**
     * Checks the target against the source's archive and picks the backup, then keeps the session
     * for {@code cluster}'s restore_command. Refuses when the restoring cluster's own prefix (in the
     * repository its spec.backup names) already holds an archive: it would write its WAL into
     * another cluster's (or its source's) history.
     */
    public Session start(String cluster, BootstrapSpec.Recovery recovery) throws RefusedException, IOException {
        RepositoryTarget own;
        try {
            own = ownTargets.apply(cluster);
        } catch (IllegalArgumentException e) {
            throw new RefusedException(e.getMessage());
        }
        if (!repository(own.location()).list(own.layout().walPrefix()).isEmpty()) {
            throw new RefusedException("prefix '" + own.prefix() + "' of the repository (" + own.location().describe()
                    + ") already holds a WAL archive (another cluster's, or this restore's source's): a restored cluster"
                    + " must archive into an empty prefix, so give it another name or another spec.backup.repository");
        }
        RepositoryTarget sourceTarget = source(own, recovery);
        Repository source = repository(sourceTarget.location());
        String prefix = sourceTarget.prefix();
        RepositoryLayout layout;
        try {
            layout = sourceTarget.layout();
        } catch (IllegalArgumentException e) {
            throw new RefusedException("spec.bootstrap.recovery.sourceCluster: " + e.getMessage());
        }
        // before anything is read: retention that starts after this removes nothing of the source's
        release(cluster);
        try {
            leases.put(cluster, RestoreLeases.take(source, layout, cluster));
        } catch (IOException e) {
            // a source this service may only read (another user's directory, a read-only key) still restores
            LOG.warnf("restore of %s: cannot take a lease on prefix %s, so retention running there could remove what this"
                    + " restore reads: %s", cluster, prefix, e.getMessage());
        }
        try {
            Session session = plan(cluster, recovery, source, prefix, layout);
            Session before = sessions.put(cluster, session);
            if (before != null) {
                before.wal().close();
            }
            // replay starts after the base backup's fetch: its first segments are ready by then
            session.wal().startAt(WalFileName.parse(session.backup().beginWal()));
            session.readManifestAhead();
            return session;
        } catch (RefusedException | IOException | RuntimeException e) {
            release(cluster);
            throw e;
        }
    }

    private Session plan(String cluster, BootstrapSpec.Recovery recovery, Repository source, String prefix,
                         RepositoryLayout layout) throws RefusedException, IOException {
        List<BackupInfo> backups = backups(source, layout);
        WalArchive archive = new WalArchive(source, layout);
        WalSummary scan = new WalSummary();
        Optional<BackupInfo> first = backups.stream().min(BackupInfo.OLDEST_FIRST);
        BootstrapSpec.Target target = recovery.target;
        if (first.isPresent() && RecoveryPlanner.needsWal(target)) {
            try {
                scan = new WalScanner(archive, PgBinaries.locate()).scan(WalFileName.parse(first.get().beginWal()),
                        read -> RecoveryPlanner.enough(target, read));
            } catch (WalScanner.ScanException e) {
                throw new RefusedException(e.getMessage());
            }
        }
        RecoveryPlanner.Outcome outcome = RecoveryPlanner.plan(prefix, backups, recovery.backup, target, scan);
        if (outcome instanceof RecoveryPlanner.Refusal refusal) {
            throw new RefusedException(refusal.message());
        }
        RecoveryPlanner.Plan plan = (RecoveryPlanner.Plan) outcome;
        Compression codec;
        try {
            codec = Compression.ofId(plan.backup().compression());
        } catch (IllegalArgumentException e) {
            throw new RefusedException("backup " + plan.backup().name() + ": " + e.getMessage());
        }
        return new Session(source, new RepositoryLayout(prefix, codec), plan.backup(), plan.window(),
                new WalPrefetcher(source, layout, readAhead, readers, spool.filter(Files::isDirectory)));
    }

    public Optional<Session> of(String cluster) {
        return Optional.ofNullable(sessions.get(cluster));
    }

    /** The restore is over (promoted or failed): nothing more is read for it. */
    public void end(String cluster) {
        Session ended = sessions.remove(cluster);
        if (ended != null) {
            ended.wal().close();
        }
        release(cluster);
    }

    private void release(String cluster) {
        RestoreLeases.Held lease = leases.remove(cluster);
        if (lease == null) {
            return;
        }
        try {
            lease.release();
        } catch (IOException e) {
            // the lease lapses on its own after RestoreLease.TERM; retention only waits longer
            LOG.warnf("cannot remove the restore lease %s: %s", lease.key(), e.getMessage());
        }
    }

    /**
     * The source's repository and prefix: spec.bootstrap.recovery.repository (its s3.prefix, else
     * sourceCluster), else the restoring cluster's own repository under sourceCluster.
     */
    private RepositoryTarget source(RepositoryTarget own, BootstrapSpec.Recovery recovery) throws RefusedException {
        try {
            if (recovery.repository == null) {
                return new RepositoryTarget(own.location(), recovery.sourceCluster, own.compression());
            }
            BackupSpec spec = new BackupSpec();
            spec.repository = recovery.repository;
            return RepositoryTarget.of(recovery.sourceCluster, spec, home, home);
        } catch (IllegalArgumentException e) {
            throw new RefusedException(e.getMessage().replace("spec.backup.repository", "spec.bootstrap.recovery.repository"));
        }
    }

    private Repository repository(RepositoryTarget.Location location) throws RefusedException {
        try {
            return repositories.apply(location);
        } catch (IllegalArgumentException e) {
            throw new RefusedException(e.getMessage());
        }
    }

    private List<BackupInfo> backups(Repository repository, RepositoryLayout layout) throws IOException, RefusedException {
        List<BackupInfo> backups = new ArrayList<>();
        for (String key : repository.list(layout.basePrefix())) {
            Optional<String> name = layout.completedBackupOf(key);
            if (name.isEmpty()) {
                continue;
            }
            try {
                Optional<byte[]> info = repository.get(key);
                if (info.isPresent()) {
                    backups.add(BackupInfo.fromJson(name.get(), info.get()));
                }
            } catch (ChecksumMismatchException | IllegalArgumentException e) {
                throw new RefusedException(e.getMessage());
            }
        }
        return backups;
    }
}
