package io.pgha.backup.service;

import io.pgha.api.postgres.Lsn;
import io.pgha.backup.core.BackupInfo;
import io.pgha.backup.core.BackupNames;
import io.pgha.backup.core.Compression;
import io.pgha.backup.core.Drills;
import io.pgha.backup.core.RecoveryLog;
import io.pgha.backup.core.RepositoryLayout;
import io.pgha.backup.core.WalChain;
import io.pgha.backup.core.WalFileName;
import io.pgha.backup.local.RestoreDrill;
import io.pgha.backup.repository.Repository;
import io.pgha.backup.restore.RestoreLeases;
import io.pgha.backup.wal.WalArchive;
import io.pgha.local.PghaException;
import io.quarkus.runtime.Startup;
import io.quarkus.vertx.http.HttpServer;
import jakarta.annotation.PostConstruct;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A restore drill, {@code pgha backup verify} and {@code spec.backup.verify}: reads the backup's
 * small objects through their SHA-256; checks that the WAL from the backup's begin segment to its
 * end, and on to the newest segment archived on its timeline, is all there and intact; streams
 * base.tar through its SHA-256 into a scratch directory and has pg_verifybackup compare every file
 * with PostgreSQL's backup_manifest (size and checksum); then starts that copy as an archive
 * recovery that fetches WAL from this service's archive endpoint, up to the first consistent
 * state, and deletes it. The first problem found is the answer, naming the file or segment.
 * While it reads, the drill holds a lease on the prefix, so that retention removes nothing under it.
 * One drill per cluster runs at a time; a second waits.
 */
@Startup
@ApplicationScoped
public class BackupVerifier {
    private static final Logger LOG = Logger.getLogger(BackupVerifier.class);
    private static final Duration PROGRESS_EVERY = Duration.ofSeconds(1);
    private static final String BASE_TAR = "base.tar";
    private static final String MANIFEST = "backup_manifest";

    @Inject
    WalArchives archives;

    @Inject
    BackupCatalog catalog;

    @Inject
    HttpServer http;

    @ConfigProperty(name = "quarkus.http.host")
    String httpHost;

    /** How long a drill's recovery may take to reach a consistent state. */
    @ConfigProperty(name = "pgha.backup.drill-timeout")
    Duration drillTimeout;

    private final Map<String, ReentrantLock> running = new ConcurrentHashMap<>();

    /** Where a drill reports as it goes: each check passed, and progress within a long one. */
    public interface Report {
        void checked(String line);

        void progress(String line);

        /** The backup the drill verifies, once it is chosen (before any check). */
        default void drilling(String backup) {
        }
    }

    @PostConstruct
    void start() {
        RestoreDrill.removeLeftovers(drills());
    }

    private Path drills() {
        return archives.home().resolve("drills");
    }

    /** The backup a drill verifies by default: the newest completed one, if there is one. */
    public Optional<String> newest(String cluster) throws IOException {
        return Drills.subject(catalog.completed(cluster)).map(BackupInfo::name);
    }

    /** What a drill verified, and the problem it found (naming the file or segment), empty when it passed. */
    public record Outcome(String backup, Optional<String> problem) {
    }

    /**
     * Runs the drill on backup {@code name}, or (empty) on the newest completed backup as the
     * repository holds it once the drill's lease is taken, so that retention cannot remove it in
     * between. Empty when there is no completed backup to drill.
     */
    public Optional<Outcome> verify(String cluster, Optional<String> name, Report report) throws IOException {
        ReentrantLock lock = running.computeIfAbsent(cluster, c -> new ReentrantLock());
        if (!lock.tryLock()) {
            report.progress("waiting for the restore drill already running on cluster " + cluster);
            lock.lock();
        }
        try {
            WalArchive archive = archives.of(cluster).archive();
            RestoreLeases.Held lease = null;
            try {
                lease = RestoreLeases.take(archive.repository(), archive.layout(), BackupNames.drillLeaseHolder(cluster));
            } catch (IOException e) {
                // a read-only repository: the drill still runs, as a restore does
                LOG.warnf("restore drill of cluster %s holds no lease on its prefix: %s", cluster, e.getMessage());
            }
            try {
                Optional<String> subject = name.isPresent() ? name : newest(cluster);
                if (subject.isEmpty()) {
                    return Optional.empty();
                }
                report.drilling(subject.get());
                return Optional.of(new Outcome(subject.get(), check(cluster, subject.get(), archive, report)));
            } finally {
                if (lease != null) {
                    lease.release();
                }
            }
        } finally {
            lock.unlock();
        }
    }

    private Optional<String> check(String cluster, String name, WalArchive archive, Report report) throws IOException {
        Repository repository = archive.repository();
        RepositoryLayout layout = archive.layout();
        Optional<BackupInfo> info = catalog.completed(cluster).stream().filter(b -> b.name().equals(name)).findFirst();
        if (info.isEmpty()) {
            return Optional.of("backup " + name + " is not a completed backup in the repository ("
                    + archives.target(cluster).location().describe() + ", prefix " + layout.prefix() + ")");
        }
        List<String> keys = new ArrayList<>(repository.list(layout.backupPrefix(name)));
        keys.sort(Comparator.naturalOrder());
        Optional<String> tarKey = keys.stream().filter(k -> fileOf(k).startsWith(BASE_TAR)).findFirst();
        Optional<String> manifestKey = keys.stream().filter(k -> fileOf(k).startsWith(MANIFEST)).findFirst();
        if (tarKey.isEmpty() || manifestKey.isEmpty()) {
            return Optional.of("file " + (tarKey.isEmpty() ? BASE_TAR : MANIFEST) + " of backup " + name + " is missing");
        }
        byte[] manifest = null;
        for (String key : keys) {
            if (key.equals(tarKey.get())) {
                continue;
            }
            byte[] content;
            try {
                content = repository.get(key).orElseThrow(() -> new IOException(key + " vanished while it was read"));
            } catch (IOException e) {
                return Optional.of("file " + fileOf(key) + " of backup " + name + ": " + e.getMessage());
            }
            if (key.equals(manifestKey.get())) {
                manifest = Compression.ofFileName(fileOf(key)).decompress(content);
            }
            report.checked("file " + fileOf(key) + ": " + content.length + " bytes, checksum ok");
        }

        Optional<String> walProblem = checkWal(archive, info.get(), report);
        if (walProblem.isPresent()) {
            return walProblem;
        }
        return drill(cluster, info.get(), repository, tarKey.get(), manifest, report);
    }

    /** The WAL from the backup's begin to the newest segment on its timeline: present, intact, full length. */
    private Optional<String> checkWal(WalArchive archive, BackupInfo info, Report report) throws IOException {
        String name = info.name();
        WalFileName begin = WalFileName.parse(info.beginWal());
        WalFileName end = WalFileName.parse(info.endWal());
        List<WalFileName> onTimeline = archive.storedOn(begin.timeline()).stream()
                .filter(f -> f.kind() == WalFileName.Kind.SEGMENT).toList();
        Set<String> stored = new HashSet<>();
        onTimeline.forEach(f -> stored.add(f.name()));
        WalFileName newest = onTimeline.stream().max(Comparator.naturalOrder()).orElse(end);
        Optional<byte[]> first;
        try {
            first = archive.stored(begin);
        } catch (IOException e) {
            return Optional.of("WAL segment " + begin.name() + ": " + e.getMessage());
        }
        if (first.isEmpty()) {
            return Optional.of(new WalChain.Gap(begin, true).describe(name));
        }
        long segmentSize = first.get().length;
        Optional<WalChain.Gap> gap = WalChain.firstGap(begin, end, newest, segmentSize, stored);
        if (gap.isPresent()) {
            return Optional.of(gap.get().describe(name));
        }
        List<WalFileName> chain = WalChain.segments(begin, end, newest, segmentSize);
        for (WalFileName segment : chain) {
            try {
                Optional<byte[]> content = archive.stored(segment);
                if (content.isEmpty()) {
                    return Optional.of(new WalChain.Gap(segment, segment.position() <= end.position()).describe(name));
                }
                if (content.get().length != segmentSize) {
                    return Optional.of("WAL segment " + segment.name() + " holds " + content.get().length + " bytes, not " + segmentSize);
                }
            } catch (IOException e) {
                return Optional.of("WAL segment " + segment.name() + ": " + e.getMessage());
            }
        }
        report.checked("WAL " + begin.name() + " to " + chain.get(chain.size() - 1).name() + ": " + chain.size()
                + " segments, complete, checksums ok (the backup ends in " + end.name() + ")");
        return Optional.empty();
    }

    /** base.tar into a scratch copy, the copy against the manifest, then recovery of the copy to a consistent state. */
    private Optional<String> drill(String cluster, BackupInfo info, Repository repository, String tarKey, byte[] manifest,
                                   Report report) throws IOException {
        String name = info.name();
        String tarFile = fileOf(tarKey);
        try (RestoreDrill copy = RestoreDrill.create(drills(), cluster)) {
            InputStream stored = repository.open(tarKey).orElseThrow(() -> new IOException(tarKey + " vanished before it was read"));
            Recorded source = new Recorded(stored);
            long[] lastReport = {System.nanoTime()};
            InputStream tar = null;
            try {
                tar = Compression.ofFileName(tarFile).decompressing(source);
                copy.extract(tar, bytes -> {
                    if (System.nanoTime() - lastReport[0] >= PROGRESS_EVERY.toNanos()) {
                        lastReport[0] = System.nanoTime();
                        report.progress("extracting " + tarFile + " into " + copy.scratch() + ": " + mib(bytes) + " of "
                                + mib(info.dataBytes()));
                    }
                });
                // the decompressor may stop at its frame's end: the checksum is checked only at the stored object's end
                source.transferTo(OutputStream.nullOutputStream());
            } catch (IOException | PghaException e) {
                // a decompressor can trip over corrupt bytes before the checksum is reached: read on to the stored
                // object's end, so that a corrupt object is named as such rather than by the codec's complaint
                source.drain();
                return Optional.of("file " + tarFile + " of backup " + name + ": "
                        + (source.failure != null ? source.failure.getMessage() : e.getMessage()));
            } finally {
                (tar != null ? tar : source).close();
            }
            report.checked("file " + tarFile + ": " + source.bytes + " bytes, checksum ok, extracted");

            report.progress("checking every file of " + tarFile + " against backup_manifest (pg_verifybackup)");
            Optional<String> mismatch = copy.checkManifest(manifest);
            if (mismatch.isPresent()) {
                return Optional.of("file " + tarFile + " of backup " + name + " does not match its backup_manifest: " + mismatch.get());
            }
            report.checked("every file of " + tarFile + " matches backup_manifest (sizes and checksums, pg_verifybackup)");

            report.progress("restoring backup " + name + " to a consistent state in " + copy.scratch());
            Instant start = Instant.now();
            Lsn end = Lsn.parse(info.endLsn());
            RecoveryLog.Verdict verdict;
            // the drill's restore_command fetches with a token of its own, good for this cluster's WAL while the drill runs
            try (WalArchives.Grant fetches = archives.allowFetches(cluster, copy.walToken())) {
                verdict = copy.recover(end, walEndpoint(cluster), drillTimeout, report::progress);
            }
            if (verdict instanceof RecoveryLog.Consistent consistent) {
                report.checked("restored to a consistent state at " + consistent.at() + " (the backup ends at " + end + ") in "
                        + Duration.between(start, Instant.now()).toSeconds() + " s; the scratch copy is removed");
                return Optional.empty();
            }
            return Optional.of("restore drill of backup " + name + ": " + ((RecoveryLog.Failed) verdict).message());
        } catch (PghaException e) {
            return Optional.of("restore drill of backup " + name + ": " + e.getMessage());
        }
    }

    /** This service's own archive endpoint, which the drill's restore_command fetches WAL from. */
    private URI walEndpoint(String cluster) {
        boolean wildcard = httpHost == null || httpHost.equals("0.0.0.0") || httpHost.equals("::") || httpHost.equals("[::]");
        String host = wildcard ? "127.0.0.1" : httpHost.contains(":") && !httpHost.startsWith("[") ? "[" + httpHost + "]" : httpHost;
        return URI.create("http://" + host + ":" + http.getPort() + "/wal/" + cluster + "/");
    }

    private static String fileOf(String key) {
        return key.substring(key.lastIndexOf('/') + 1);
    }

    private static String mib(long bytes) {
        return (bytes >> 20) + " MiB";
    }

    /** A stored object's stream that remembers its first failure (a checksum mismatch), which tar's own message would hide. */
    private static final class Recorded extends FilterInputStream {
        IOException failure;
        long bytes;

        Recorded(InputStream in) {
            super(in);
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xFF;
        }

        /** Reads to the end, only to have the checksum checked; a failure is recorded, not thrown. */
        void drain() {
            try {
                transferTo(OutputStream.nullOutputStream());
            } catch (IOException e) {
                // recorded in failure when it came from the stored object
            }
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            try {
                int n = super.read(b, off, len);
                if (n > 0) {
                    bytes += n;
                }
                return n;
            } catch (IOException e) {
                if (failure == null) {
                    failure = e;
                }
                throw e;
            }
        }
    }
}
