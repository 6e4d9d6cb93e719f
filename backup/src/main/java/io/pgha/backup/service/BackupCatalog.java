package io.pgha.backup.service;

import io.pgha.backup.core.BackupInfo;
import io.pgha.backup.core.RepositoryLayout;
import io.pgha.backup.core.WalDumpOutput;
import io.pgha.backup.core.WalFileName;
import io.pgha.backup.local.PgWalDump;
import io.pgha.backup.repository.Repository;
import io.pgha.backup.wal.WalArchive;
import io.pgha.local.PgBinaries;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What a cluster's repository holds, read from the repository itself (never only from a state
 * directory, so another state directory's restore sees the same): the completed base backups
 * (those with a backup.json), the newest archived WAL segment, and the time of the last
 * transaction end in the archive.
 */
@ApplicationScoped
public class BackupCatalog {
    /** How many segments back from the newest to look for a transaction end (an idle archive ends in switch-only segments). */
    private static final int WALDUMP_SEGMENTS = 8;

    @Inject
    WalArchives archives;

    /** backup.json files never change once written: read each once. */
    private final Map<String, BackupInfo> infos = new ConcurrentHashMap<>();
    /** The archive's end time, per cluster, for the newest segment it was computed from. */
    private final Map<String, ArchiveEnd> ends = new ConcurrentHashMap<>();

    /** The archive's end in time, found in {@code segment}, the newest segment when it was computed. */
    public record ArchiveEnd(WalFileName newest, Optional<Instant> lastTransactionEnd, String foundIn) {
    }

    /** Completed backups, oldest first. */
    public List<BackupInfo> completed(String cluster) throws IOException {
        Repository repository = archives.repository();
        RepositoryLayout layout = layout(cluster);
        List<BackupInfo> result = new ArrayList<>();
        for (String key : repository.list(layout.basePrefix())) {
            Optional<String> name = layout.completedBackupOf(key);
            if (name.isEmpty()) {
                continue;
            }
            BackupInfo info = infos.get(key);
            if (info == null) {
                Optional<byte[]> json = repository.get(key);
                if (json.isEmpty()) {
                    continue;
                }
                info = BackupInfo.fromJson(name.get(), json.get());
                infos.put(key, info);
            }
            result.add(info);
        }
        result.sort(BackupInfo.OLDEST_FIRST);
        return result;
    }

    /** Every archived WAL segment (no partial, history or backup history files). */
    public List<WalFileName> archivedSegments(String cluster) throws IOException {
        RepositoryLayout layout = layout(cluster);
        List<WalFileName> segments = new ArrayList<>();
        for (String key : archives.repository().list(layout.walPrefix())) {
            layout.walFileOf(key).filter(f -> f.kind() == WalFileName.Kind.SEGMENT).ifPresent(segments::add);
        }
        return segments;
    }

    public Optional<WalFileName> newestSegment(String cluster) throws IOException {
        return archivedSegments(cluster).stream().max(Comparator.naturalOrder());
    }

    /**
     * The time of the last COMMIT or ABORT record in the archive, as pg_waldump lists the newest
     * segments (walking back over segments that hold none); computed again only when a newer
     * segment arrived.
     */
    public Optional<ArchiveEnd> archiveEnd(String cluster) throws IOException {
        List<WalFileName> segments = archivedSegments(cluster);
        Optional<WalFileName> newest = segments.stream().max(Comparator.naturalOrder());
        if (newest.isEmpty()) {
            return Optional.empty();
        }
        ArchiveEnd known = ends.get(cluster);
        if (known != null && known.newest().equals(newest.get())) {
            return Optional.of(known);
        }
        PgWalDump waldump = new PgWalDump(PgBinaries.locate());
        WalArchive archive = archives.of(cluster).archive();
        List<WalFileName> newestFirst = segments.stream().filter(s -> s.timeline() == newest.get().timeline())
                .sorted(Comparator.reverseOrder()).limit(WALDUMP_SEGMENTS).toList();
        ArchiveEnd end = new ArchiveEnd(newest.get(), Optional.empty(), "");
        for (WalFileName segment : newestFirst) {
            Optional<byte[]> content = archive.fetch(segment).content();
            if (content.isEmpty()) {
                continue;
            }
            Optional<Instant> t = WalDumpOutput.lastTransactionEnd(waldump.dump(segment.name(), content.get()));
            if (t.isPresent()) {
                end = new ArchiveEnd(newest.get(), t, segment.name());
                break;
            }
        }
        ends.put(cluster, end);
        return Optional.of(end);
    }

    private RepositoryLayout layout(String cluster) {
        return archives.of(cluster).archive().layout();
    }
}
