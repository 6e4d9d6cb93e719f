package io.pgha.backup.wal;

import com.github.luben.zstd.Zstd;
import io.pgha.backup.core.Compression;
import io.pgha.backup.core.RepositoryLayout;
import io.pgha.backup.core.WalDecisions;
import io.pgha.backup.core.WalFileName;
import io.pgha.backup.repository.ChecksumMismatchException;
import io.pgha.backup.repository.Checksums;
import io.pgha.backup.repository.Repository;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** One cluster's WAL archive: push (archive_command) and fetch (restore_command) over a repository. */
public final class WalArchive {
    private final Repository repository;
    private final RepositoryLayout layout;

    public WalArchive(Repository repository, RepositoryLayout layout) {
        this.repository = repository;
        this.layout = layout;
    }

    public RepositoryLayout layout() {
        return layout;
    }

    /** The outcome of a push; CONFLICT stores nothing. */
    public WalDecisions.Push push(WalFileName file, byte[] content) throws IOException, ChecksumMismatchException {
        String key = layout.walKey(file);
        String sha = Checksums.sha256(content);
        WalDecisions.Push decision = WalDecisions.push(storedContentSha(key), sha);
        if (decision != WalDecisions.Push.STORE) {
            return decision;
        }
        if (repository.putIfAbsent(key, compress(content))) {
            return WalDecisions.Push.STORE;
        }
        // another push of the same name won the race: judge against what it stored
        return WalDecisions.push(storedContentSha(key), sha);
    }

    /** The file's content, or what its absence means for recovery. */
    public Fetched fetch(WalFileName file) throws IOException, ChecksumMismatchException {
        return resolve(file, repository.get(layout.walKey(file)));
    }

    /**
     * {@link #fetch} with the stored object already read (checksum checked), for a reader that
     * fetched ahead: present, it is decompressed; absent, the archive decides what that means.
     */
    public Fetched resolve(WalFileName file, Optional<byte[]> stored) throws IOException {
        if (stored.isPresent()) {
            return new Fetched(Optional.of(decompress(stored.get())), Optional.empty());
        }
        return new Fetched(Optional.empty(), Optional.of(WalDecisions.missing(file, storedOn(file.timeline()))));
    }

    public record Fetched(Optional<byte[]> content, Optional<WalDecisions.Missing> missing) {
    }

    /** The files stored on one timeline, in no particular order. */
    public List<WalFileName> storedOn(long timeline) throws IOException {
        List<WalFileName> files = new ArrayList<>();
        for (String key : repository.list(layout.walTimelinePrefix(timeline))) {
            layout.walFileOf(key).ifPresent(files::add);
        }
        return files;
    }

    private Optional<String> storedContentSha(String key) throws IOException, ChecksumMismatchException {
        Optional<byte[]> stored = repository.get(key);
        return stored.isEmpty() ? Optional.empty() : Optional.of(Checksums.sha256(decompress(stored.get())));
    }

    private byte[] compress(byte[] content) {
        return Zstd.compress(content, Compression.ZSTD_LEVEL);
    }

    private byte[] decompress(byte[] stored) {
        long size = Zstd.getFrameContentSize(stored);
        if (size < 0 || size > Integer.MAX_VALUE) {
            throw new IllegalStateException("stored WAL is not a zstd frame with a known size");
        }
        return Zstd.decompress(stored, (int) size);
    }
}
