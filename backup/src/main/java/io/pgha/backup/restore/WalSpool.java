package io.pgha.backup.restore;

import io.pgha.backup.core.WalFileName;
import org.jboss.logging.Logger;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.UserPrincipal;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;

/**
 * A restore's local spool: the segments after the one restore_command last asked the service
 * for, decompressed and checksum checked, written ahead into a directory next to the restoring
 * instance, so that its restore_command takes the next segment with a rename instead of a shell,
 * curl and an HTTP round trip while replay waits (pgBackRest's asynchronous archive-get does the
 * same). Only segments that are stored and intact are spooled, in order; anything else (the
 * archive's end, a hole, a corrupt object, a segment of another timeline) is not, so
 * restore_command asks the service, whose answer decides as before ("no such file" only at the
 * true end). Filling starts at the backup's first segment and again after each segment the
 * service serves.
 * <p>
 * The files are written as the spool directory's owner (the PostgreSQL OS user, when the service
 * runs as root): PostgreSQL keeps a restored segment under its own name and may later recycle it
 * into a WAL file it writes.
 */
final class WalSpool {
    private static final Logger LOG = Logger.getLogger(WalSpool.class);
    /** How often a full spool looks whether restore_command took a segment. */
    private static final Duration FULL_POLL = Duration.ofMillis(10);
    /** A segment being written: restore_command looks for the bare name, which appears by an atomic rename. */
    private static final String PARTIAL_SUFFIX = ".part";

    /** Where the spool's segments come from. */
    interface Reads {
        /**
         * The stored, decompressed content of {@code file} (empty when it is not stored); it fails
         * when the segment is corrupt or cannot be read.
         */
        CompletableFuture<Optional<byte[]>> take(WalFileName file);
    }

    private final Path dir;
    private final int depth;
    private final Reads read;
    private final Object lock = new Object();
    /** Bumped by every restart and by close: a filler of an older generation renames nothing more. */
    private long generation;
    private Thread filler;

    /**
     * @param dir   the spool directory, made by the provisioner and owned by the PostgreSQL OS user
     * @param depth how many segments may wait in it
     * @param read  the segments' content
     */
    WalSpool(Path dir, int depth, Reads read) {
        this.dir = dir;
        this.depth = depth;
        this.read = read;
    }

    /**
     * Fills the spool from {@code first} on: when the restore starts, its backup's first segment
     * (so replay's first segments wait while the base backup is fetched), and after each segment the
     * service serves, the next one. PostgreSQL asks in order, and asked the service because the
     * spool did not have that segment, so what the spool holds then is stale (an earlier segment,
     * another timeline) or was written meanwhile: it is emptied first.
     */
    void restartAt(WalFileName first) {
        synchronized (lock) {
            long gen = ++generation;
            if (filler != null) {
                filler.interrupt();
            }
            clear();
            filler = new Thread(() -> fill(gen, first), "pgha-restore-spool");
            filler.setDaemon(true);
            filler.start();
        }
    }

    /** The restore is over: nothing more is spooled, and what waits is removed. */
    void close() {
        synchronized (lock) {
            generation++;
            if (filler != null) {
                filler.interrupt();
                filler = null;
            }
            clear();
        }
    }

    private void fill(long gen, WalFileName first) {
        WalFileName next = first;
        try {
            while (current(gen)) {
                if (waiting() >= depth) {
                    Thread.sleep(FULL_POLL.toMillis());
                    continue;
                }
                Optional<byte[]> content = read.take(next).get();
                if (content.isEmpty()) {
                    // the archive's end or a hole: restore_command asks the service, which tells them apart
                    return;
                }
                write(gen, next, content.get());
                next = next.next(content.get().length);
            }
        } catch (ExecutionException e) {
            // a corrupt or unreadable segment is not spooled: the service's own fetch retries and names it
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (IOException e) {
            if (current(gen)) {
                LOG.warnf("restore spool %s: cannot write %s, restore_command fetches it from the service: %s", dir,
                        next.name(), e.getMessage());
            }
        }
    }

    private boolean current(long gen) {
        synchronized (lock) {
            return gen == generation;
        }
    }

    private void write(long gen, WalFileName file, byte[] content) throws IOException {
        Path part = Files.createTempFile(dir, file.name(), PARTIAL_SUFFIX);
        try {
            Files.write(part, content);
            UserPrincipal owner = Files.getOwner(dir);
            if (!Files.getOwner(part).equals(owner)) {
                Files.setOwner(part, owner);
            }
            synchronized (lock) {
                if (gen == generation) {
                    Files.move(part, dir.resolve(file.name()), StandardCopyOption.ATOMIC_MOVE);
                }
            }
        } finally {
            Files.deleteIfExists(part);
        }
    }

    /**
     * Segments that wait for restore_command: not the ones being written, nor the mark
     * restore_command leaves there when the archive has no such file (LocalLayout#restoreArchiveEnd).
     */
    private int waiting() throws IOException {
        int n = 0;
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir)) {
            for (Path f : files) {
                if (WalFileName.isSegment(f.getFileName().toString())) {
                    n++;
                }
            }
        }
        return n;
    }

    private void clear() {
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir)) {
            for (Path f : files) {
                Files.deleteIfExists(f);
            }
        } catch (IOException e) {
            // a file that stays holds what the archive holds under its name (WAL is immutable), so taking it later is harmless
            LOG.warnf("restore spool %s: cannot clear it: %s", dir, e.getMessage());
        }
    }
}
