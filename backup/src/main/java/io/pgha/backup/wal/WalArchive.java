package io.pgha.backup.wal;

import io.pgha.backup.core.Compression;
import io.pgha.backup.core.RepositoryLayout;
import io.pgha.backup.core.WalDecisions;
import io.pgha.backup.core.WalFileName;
import io.pgha.backup.repository.Checksums;
import io.pgha.backup.repository.Repository;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * One cluster's WAL archive: push (archive_command) and fetch (restore_command) over a repository.
 * A push compresses with the layout's compression; both look for a file under every compression's
 * suffix, so a change of spec.backup.compression neither hides stored WAL from a restore nor lets
 * a second copy of a segment appear beside the first.
 */
public final class WalArchive {
    /**
     * With archive_mode = always the primary and its standbys push the same segment at about the
     * same time. Pushes of one name take turns here, so the second one sees the first one's object
     * (ALREADY_STORED) even on a store whose create-only check cannot see a concurrent write (an S3
     * server that ignores If-None-Match), and a segment is counted as new once.
     */
    private static final int LOCK_STRIPES = 64;

    /** How many pushed files' content checksums {@link #recent} keeps: a few minutes of a busy primary's WAL. */
    private static final int RECENT = 256;

    private final Object[] locks = new Object[LOCK_STRIPES];
    /**
     * The content checksums of the files this archive stored or compared lately, newest last. The
     * standbys' pushes of what the primary pushed (archive_mode = always) are judged against it and
     * a look-up that the object is still there, instead of reading, decompressing and hashing the
     * stored object again: that took longer than storing it, on the cores the primary's own pushes
     * need. Guarded by itself.
     */
    private final Map<WalFileName, String> recent = new LinkedHashMap<>(RECENT, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<WalFileName, String> eldest) {
            return size() > RECENT;
        }
    };
    private final Repository repository;
    private final RepositoryLayout layout;

    public WalArchive(Repository repository, RepositoryLayout layout) {
        this.repository = repository;
        this.layout = layout;
        for (int i = 0; i < LOCK_STRIPES; i++) {
            locks[i] = new Object();
        }
    }

    public RepositoryLayout layout() {
        return layout;
    }

    public Repository repository() {
        return repository;
    }

    /** The outcome of a push: STORE only when this push created the object; CONFLICT stores nothing. */
    public WalDecisions.Push push(WalFileName file, byte[] content) throws IOException {
        synchronized (locks[Math.floorMod(file.name().hashCode(), LOCK_STRIPES)]) {
            return pushAlone(file, content);
        }
    }

    private WalDecisions.Push pushAlone(WalFileName file, byte[] content) throws IOException {
        String sha = Checksums.sha256(content);
        WalDecisions.Push decision = WalDecisions.push(storedContentSha(file), sha);
        if (decision != WalDecisions.Push.STORE) {
            return decision;
        }
        if (repository.putIfAbsent(layout.walKey(file), layout.compression().compress(content))) {
            remember(file, sha);
            return WalDecisions.Push.STORE;
        }
        // another push of the same name won the race: judge against what it stored
        return WalDecisions.push(storedContentSha(file), sha);
    }

    /** The file's content, or what its absence means for recovery. */
    public Fetched fetch(WalFileName file) throws IOException {
        return resolve(file, stored(file));
    }

    /**
     * {@link #fetch} with the content already read by {@link #stored} (for a reader that fetched
     * ahead): present, it is the answer; absent, the archive decides what that means.
     */
    public Fetched resolve(WalFileName file, Optional<byte[]> content) throws IOException {
        if (content.isPresent()) {
            return new Fetched(content, Optional.empty());
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

    /** The decompressed content stored for {@code file}, under whichever compression wrote it. */
    public Optional<byte[]> stored(WalFileName file) throws IOException {
        Optional<StoredFile> found = storedCompressed(file);
        return found.isPresent() ? Optional.of(found.get().content()) : Optional.empty();
    }

    /**
     * The object stored for {@code file} as the repository holds it, its checksum checked: a
     * fraction of the segment's size, which is what a reader that keeps files ahead should hold.
     */
    public Optional<StoredFile> storedCompressed(WalFileName file) throws IOException {
        for (String key : layout.walKeys(file)) {
            Optional<byte[]> bytes = repository.get(key);
            if (bytes.isPresent()) {
                return Optional.of(new StoredFile(Compression.ofFileName(key), bytes.get()));
            }
        }
        return Optional.empty();
    }

    /** A stored file's bytes under the compression that wrote them. */
    public record StoredFile(Compression compression, byte[] compressed) {
        public byte[] content() throws IOException {
            return compression.decompress(compressed);
        }
    }

    private Optional<String> storedContentSha(WalFileName file) throws IOException {
        String known;
        synchronized (recent) {
            known = recent.get(file);
        }
        // retention may have removed it since: then it is judged as never stored
        if (known != null && storedUnderAnyKey(file)) {
            return Optional.of(known);
        }
        Optional<String> sha = stored(file).map(Checksums::sha256);
        sha.ifPresent(s -> remember(file, s));
        return sha;
    }

    /** Whether this archive stored or compared {@code file} lately (no look-up: it may have been removed since). */
    public boolean storedLately(WalFileName file) {
        synchronized (recent) {
            return recent.containsKey(file);
        }
    }

    private boolean storedUnderAnyKey(WalFileName file) throws IOException {
        for (String key : layout.walKeys(file)) {
            if (repository.exists(key)) {
                return true;
            }
        }
        return false;
    }

    private void remember(WalFileName file, String sha) {
        synchronized (recent) {
            recent.put(file, sha);
        }
    }
}
