package io.pgha.backup.restore;

import io.pgha.api.v1.cluster.BootstrapSpec;
import io.pgha.backup.core.BackupInfo;
import io.pgha.backup.core.Compression;
import io.pgha.backup.core.RecoveryPlanner;
import io.pgha.backup.core.RepositoryLayout;
import io.pgha.backup.core.WalFileName;
import io.pgha.backup.core.WalSummary;
import io.pgha.backup.repository.ChecksumMismatchException;
import io.pgha.backup.repository.FilesystemRepository;
import io.pgha.backup.repository.Repository;
import io.pgha.backup.wal.WalArchive;
import io.pgha.local.PgBinaries;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;

/**
 * The restores this backup service serves, one per restoring cluster: where its source is, the
 * backup it starts from, and the read-ahead that feeds its restore_command. Kept in memory: when
 * the service restarts during a restore, restore_command fails (never "no such file") and the
 * restore fails rather than ending early.
 */
public final class RestoreSessions {
    private final Repository ownRepository;
    private final Path ownRoot;
    private final ExecutorService readers;
    private final int readAhead;
    private final Map<String, Session> sessions = new ConcurrentHashMap<>();

    public RestoreSessions(Path ownRoot, ExecutorService readers, int readAhead) {
        this.ownRoot = ownRoot;
        this.ownRepository = new FilesystemRepository(ownRoot);
        this.readers = readers;
        this.readAhead = readAhead;
    }

    /** One restore: the source and what restore_command reads through. */
    public record Session(Repository repository, RepositoryLayout layout, BackupInfo backup, String window,
                          WalPrefetcher wal) {
        /**
         * A file of the backup, decompressed, streamed from the repository: a checksum mismatch
         * surfaces as an IOException at the end of the stream, so a corrupt backup never extracts quietly.
         */
        public InputStream open(String key) throws IOException {
            Compression codec = Compression.ZSTD;
            if (!codec.id().equals(backup.compression())) {
                throw new IOException("backup " + backup.name() + " is compressed with " + backup.compression()
                        + ", which this version cannot read");
            }
            InputStream stored = repository.open(key)
                    .orElseThrow(() -> new IOException(key + " of backup " + backup.name() + " is missing from the repository"));
            return codec.decompressing(stored);
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
     * for {@code cluster}'s restore_command. Refuses when the restoring cluster's own prefix already
     * holds an archive: it would write its WAL into another cluster's (or its source's) history.
     */
    public Session start(String cluster, BootstrapSpec.Recovery recovery) throws RefusedException, IOException {
        RepositoryLayout own = new RepositoryLayout(cluster, Compression.ZSTD);
        if (!ownRepository.list(own.walPrefix()).isEmpty()) {
            throw new RefusedException("prefix '" + cluster + "' of the repository " + ownRoot + " already holds a WAL archive"
                    + " (another cluster's, or this restore's source's): a restored cluster must archive into an empty prefix,"
                    + " so give it another name or another spec.backup.repository");
        }
        Repository source = repository(recovery.repository);
        RepositoryLayout layout;
        try {
            layout = new RepositoryLayout(recovery.sourceCluster, Compression.ZSTD);
        } catch (IllegalArgumentException e) {
            throw new RefusedException("spec.bootstrap.recovery.sourceCluster: " + e.getMessage());
        }
        List<BackupInfo> backups = backups(source, layout);
        WalArchive archive = new WalArchive(source, layout);
        WalSummary scan;
        Optional<BackupInfo> first = backups.stream().min(BackupInfo.OLDEST_FIRST);
        try {
            scan = first.isEmpty() ? null : new WalScanner(archive, PgBinaries.locate()).scan(WalFileName.parse(first.get().beginWal()));
        } catch (WalScanner.ScanException e) {
            throw new RefusedException(e.getMessage());
        }
        RecoveryPlanner.Outcome outcome = RecoveryPlanner.plan(recovery.sourceCluster, backups, recovery.backup, recovery.target,
                scan == null ? new WalSummary() : scan);
        if (outcome instanceof RecoveryPlanner.Refusal refusal) {
            throw new RefusedException(refusal.message());
        }
        RecoveryPlanner.Plan plan = (RecoveryPlanner.Plan) outcome;
        Session session = new Session(source, layout, plan.backup(), plan.window(),
                new WalPrefetcher(source, layout, readAhead, readers));
        sessions.put(cluster, session);
        return session;
    }

    public Optional<Session> of(String cluster) {
        return Optional.ofNullable(sessions.get(cluster));
    }

    /** The restore is over (promoted or failed): nothing more is read for it. */
    public void end(String cluster) {
        sessions.remove(cluster);
    }

    private Repository repository(io.pgha.api.v1.cluster.BackupSpec.Repository spec) throws RefusedException {
        if (spec == null) {
            return ownRepository;
        }
        if (spec.filesystem != null) {
            return new FilesystemRepository(Path.of(spec.filesystem.path));
        }
        throw new RefusedException("spec.bootstrap.recovery.repository: restoring from S3 is not supported yet; use filesystem");
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
