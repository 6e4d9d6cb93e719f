package io.pgha.backup.service;

import io.pgha.backup.core.BackupInfo;
import io.pgha.backup.core.RepositoryLayout;
import io.pgha.backup.core.WalChain;
import io.pgha.backup.core.WalFileName;
import io.pgha.backup.repository.Repository;
import io.pgha.backup.wal.WalArchive;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * {@code pgha backup verify}: reads every object of a backup to its end through its SHA-256, then
 * checks that the WAL from the backup's begin segment to its end, and on to the newest segment
 * archived on its timeline, is all there and intact (each segment read through its checksum).
 * The first problem found is the answer, naming the object or segment.
 */
@ApplicationScoped
public class BackupVerifier {
    @Inject
    WalArchives archives;

    @Inject
    BackupCatalog catalog;

    /** What was checked (one line each) and the problem found, if any. */
    public record Result(List<String> checked, Optional<String> problem) {
    }

    /** The newest completed backup's name, if there is one. */
    public Optional<String> newest(String cluster) throws IOException {
        return catalog.completed(cluster).stream().max(BackupInfo.OLDEST_FIRST).map(BackupInfo::name);
    }

    public Result verify(String cluster, String name) throws IOException {
        WalArchive archive = archives.of(cluster).archive();
        Repository repository = archive.repository();
        RepositoryLayout layout = archive.layout();
        List<String> checked = new ArrayList<>();
        Optional<BackupInfo> info = catalog.completed(cluster).stream().filter(b -> b.name().equals(name)).findFirst();
        if (info.isEmpty()) {
            return new Result(checked, Optional.of("backup " + name + " is not a completed backup in the repository ("
                    + archives.target(cluster).location().describe() + ", prefix " + layout.prefix() + ")"));
        }
        List<String> keys = new ArrayList<>(repository.list(layout.backupPrefix(name)));
        keys.sort(Comparator.naturalOrder());
        for (String key : keys) {
            String file = key.substring(key.lastIndexOf('/') + 1);
            long bytes;
            try (InputStream in = repository.open(key).orElseThrow(() -> new IOException(key + " vanished while it was read"))) {
                bytes = in.transferTo(OutputStream.nullOutputStream());
            } catch (IOException e) {
                return new Result(checked, Optional.of("file " + file + " of backup " + name + ": " + e.getMessage()));
            }
            checked.add("file " + file + ": " + bytes + " bytes, checksum ok");
        }
        for (String needed : List.of("base.tar", "backup_manifest")) {
            if (keys.stream().noneMatch(k -> k.substring(k.lastIndexOf('/') + 1).startsWith(needed))) {
                return new Result(checked, Optional.of("file " + needed + " of backup " + name + " is missing"));
            }
        }

        WalFileName begin = WalFileName.parse(info.get().beginWal());
        WalFileName end = WalFileName.parse(info.get().endWal());
        List<WalFileName> onTimeline = archive.storedOn(begin.timeline()).stream()
                .filter(f -> f.kind() == WalFileName.Kind.SEGMENT).toList();
        Set<String> stored = new HashSet<>();
        onTimeline.forEach(f -> stored.add(f.name()));
        WalFileName newest = onTimeline.stream().max(Comparator.naturalOrder()).orElse(end);
        Optional<byte[]> first;
        try {
            first = archive.stored(begin);
        } catch (IOException e) {
            return new Result(checked, Optional.of("WAL segment " + begin.name() + ": " + e.getMessage()));
        }
        if (first.isEmpty()) {
            return new Result(checked, Optional.of(new WalChain.Gap(begin, true).describe(name)));
        }
        long segmentSize = first.get().length;
        Optional<WalChain.Gap> gap = WalChain.firstGap(begin, end, newest, segmentSize, stored);
        if (gap.isPresent()) {
            return new Result(checked, Optional.of(gap.get().describe(name)));
        }
        List<WalFileName> chain = WalChain.segments(begin, end, newest, segmentSize);
        for (WalFileName segment : chain) {
            try {
                Optional<byte[]> content = archive.stored(segment);
                if (content.isEmpty()) {
                    return new Result(checked, Optional.of(new WalChain.Gap(segment, segment.position() <= end.position()).describe(name)));
                }
                if (content.get().length != segmentSize) {
                    return new Result(checked, Optional.of("WAL segment " + segment.name() + " holds " + content.get().length
                            + " bytes, not " + segmentSize));
                }
            } catch (IOException e) {
                return new Result(checked, Optional.of("WAL segment " + segment.name() + ": " + e.getMessage()));
            }
        }
        checked.add("WAL " + begin.name() + " to " + chain.get(chain.size() - 1).name() + ": " + chain.size()
                + " segments, complete, checksums ok (the backup ends in " + end.name() + ")");
        return new Result(checked, Optional.empty());
    }
}
