package io.pgha.backup.restore;

import io.pgha.backup.core.RepositoryLayout;
import io.pgha.backup.core.WalFileName;
import io.pgha.backup.repository.Repository;
import io.pgha.backup.wal.WalArchive;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;

/**
 * restore_command's side of one restore: when PostgreSQL asks for segment N, segments N+1..N+k are
 * already being read from the repository in the background, so replay never waits on one fetch at
 * a time. Only objects that were found are kept, compressed as stored and checksum checked, and
 * never more than k of them: the window follows the newest request (PostgreSQL's or the spool's)
 * and what falls out of it is dropped, so a restore holds a bounded amount of memory however far
 * ahead of replay the spool runs or falls behind it (two overlapping windows once held 2k
 * decompressed segments and ran a 256 MiB service out of heap at scale 130). An absent or
 * failed read ahead is asked again when PostgreSQL wants that segment, because the archive may
 * have grown since, and only the archive decides whether an absence ends recovery. With a spool
 * directory (local mode), what is read ahead is also written there for restore_command to take
 * without asking (see {@link WalSpool}).
 */
public final class WalPrefetcher {
    /** How often a repository read that failed with an I/O error is tried before the fetch fails. */
    static final int ATTEMPTS = 3;
    static final Duration RETRY_DELAY = Duration.ofSeconds(1);

    private final WalArchive archive;
    private final int ahead;
    private final Executor executor;
    /** The reads ahead, at most {@link #ahead}; guarded by itself. */
    private final Map<WalFileName, CompletableFuture<Optional<WalArchive.StoredFile>>> pending = new HashMap<>();
    private final Optional<WalSpool> spool;
    /** The archive's segment size, once a segment was read (0 before): what the spool reads ahead by. */
    private volatile long segmentBytes;

    public WalPrefetcher(Repository repository, RepositoryLayout layout, int ahead, Executor executor) {
        this(repository, layout, ahead, executor, Optional.empty());
    }

    /** @param spoolDir where restore_command looks before it asks the service, when it does */
    public WalPrefetcher(Repository repository, RepositoryLayout layout, int ahead, Executor executor,
                         Optional<Path> spoolDir) {
        this.archive = new WalArchive(repository, layout);
        this.ahead = ahead;
        this.executor = executor;
        this.spool = spoolDir.map(dir -> new WalSpool(dir, ahead, this::take));
    }

    /**
     * Starts spooling at {@code first} (the backup's first segment) before restore_command asks
     * for anything, so that the first segments are ready when replay starts; no-op without a spool.
     */
    public void startAt(WalFileName first) {
        spool.ifPresent(s -> s.restartAt(first));
    }

    /** Nothing more is read ahead or spooled for this restore. */
    public void close() {
        spool.ifPresent(WalSpool::close);
        synchronized (pending) {
            pending.clear();
        }
    }

    /** How many segments are read ahead or held now: never more than the read-ahead depth. */
    int heldAhead() {
        synchronized (pending) {
            return pending.size();
        }
    }

    /** The file for restore_command, or what its absence means; I/O errors only after {@link #ATTEMPTS} tries. */
    public WalArchive.Fetched fetch(WalFileName file) throws IOException {
        if (file.kind() != WalFileName.Kind.SEGMENT) {
            return withRetries(file, () -> archive.fetch(file));
        }
        CompletableFuture<Optional<WalArchive.StoredFile>> ahead;
        synchronized (pending) {
            ahead = pending.remove(file);
        }
        Optional<byte[]> stored = Optional.empty();
        if (ahead != null) {
            try {
                Optional<WalArchive.StoredFile> read = ahead.get();
                if (read.isPresent()) {
                    stored = Optional.of(read.get().content());
                }
            } catch (ExecutionException e) {
                // read again below, with retries: a transient error ahead must not fail the restore
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while fetching " + file.name(), e);
            }
        }
        Optional<byte[]> found = stored;
        WalArchive.Fetched fetched = found.isPresent() ? archive.resolve(file, found)
                : withRetries(file, () -> archive.fetch(file));
        fetched.content().ifPresent(content -> {
            segmentBytes = content.length;
            readAhead(file, content.length);
            spool.ifPresent(s -> s.restartAt(file.next(content.length)));
        });
        return fetched;
    }

    /**
     * The spool's read of {@code file}: the read started ahead for it (or a new one), with the
     * segments after it read ahead in turn once the segment size is known.
     */
    private CompletableFuture<Optional<byte[]>> take(WalFileName file) {
        CompletableFuture<Optional<WalArchive.StoredFile>> read;
        synchronized (pending) {
            read = pending.remove(file);
        }
        long size = segmentBytes;
        if (size > 0) {
            readAhead(file, size);
        }
        return (read != null ? read : readLater(file)).thenApply(found -> {
            if (found.isEmpty()) {
                return Optional.empty();
            }
            try {
                byte[] content = found.get().content();
                segmentBytes = content.length;
                return Optional.of(content);
            } catch (IOException e) {
                throw new CompletionException(e);
            }
        });
    }

    /**
     * Makes the reads ahead the {@link #ahead} segments after {@code from}: those already read or
     * under way stay, the missing ones start, and every other one is dropped (behind the request,
     * on another timeline, or left from a window further on that restore_command fell back from).
     */
    private void readAhead(WalFileName from, long segmentBytes) {
        Set<WalFileName> window = new HashSet<>();
        WalFileName next = from;
        for (int i = 0; i < ahead; i++) {
            next = next.next(segmentBytes);
            window.add(next);
        }
        synchronized (pending) {
            pending.keySet().retainAll(window);
            for (WalFileName n : window) {
                // a read that found nothing or failed is started again: the archive may have grown since
                pending.compute(n, (k, read) -> read == null || foundNothing(read) ? readLater(k) : read);
            }
        }
    }

    private static boolean foundNothing(CompletableFuture<Optional<WalArchive.StoredFile>> read) {
        return read.isDone() && (read.isCompletedExceptionally() || read.join().isEmpty());
    }

    private CompletableFuture<Optional<WalArchive.StoredFile>> readLater(WalFileName file) {
        return CompletableFuture.supplyAsync(() -> {
            try {
                return archive.storedCompressed(file);
            } catch (IOException e) {
                throw new CompletionException(e);
            }
        }, executor);
    }

    private interface Read {
        WalArchive.Fetched get() throws IOException;
    }

    private static WalArchive.Fetched withRetries(WalFileName file, Read read) throws IOException {
        IOException last = null;
        for (int attempt = 1; attempt <= ATTEMPTS; attempt++) {
            try {
                return read.get();
            } catch (IOException e) {
                last = e;
                try {
                    Thread.sleep(RETRY_DELAY.toMillis());
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
        }
        throw new IOException("cannot read " + file.name() + " from the repository after " + ATTEMPTS + " attempts: "
                + (last == null ? "interrupted" : last.getMessage()), last);
    }
}
