package io.pgha.provisioner.local;

import org.jboss.logging.Logger;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * Writes a base backup out to disk while it is extracted: coreutils' {@code sync -f} (syncfs) of its file
 * system, again and again until the extraction ends, then once more. PostgreSQL syncs the data
 * directory before it replays (recovery_init_sync_method), and the kernel would otherwise start
 * writing the extracted gigabytes only then: a 2 GB extraction here took 1.9-2.2 s and then 1.1-1.3 s
 * to sync, against 2.1-2.7 s and nothing left to sync with the write-out running alongside.
 * Where {@code sync} cannot be run, nothing is lost: the server's own sync does it all.
 */
final class WriteBack {
    private static final Logger LOG = Logger.getLogger(WriteBack.class);
    private static final String SYNC = "sync";
    /** The least time between two starts, so that a file system with nothing to write costs no busy loop. */
    private static final Duration PACE = Duration.ofMillis(100);
    /** How long {@link #await} waits for the last write-out before going on without it: longer than a large restore takes. */
    private static final Duration LAST_WAIT = Duration.ofMinutes(5);

    private final Path dir;
    private final Thread loop;
    private volatile boolean extracting = true;

    private WriteBack(Path dir) {
        this.dir = dir;
        this.loop = new Thread(this::run, "pgha-write-back");
        loop.setDaemon(true);
    }

    /** Starts writing out the file system of {@code dir}, which must exist. */
    static WriteBack start(Path dir) {
        WriteBack w = new WriteBack(dir);
        w.loop.start();
        return w;
    }

    /** The extraction has ended: waits until what it wrote is on disk (one last write-out after the one running), or {@link #LAST_WAIT} at most. */
    void await() {
        extracting = false;
        try {
            loop.join(LAST_WAIT.toMillis());
        } catch (InterruptedException e) {
            loop.interrupt();
            Thread.currentThread().interrupt();
        }
        if (loop.isAlive()) {
            LOG.infof("%s -f on %s still runs after %d s: going on without it", SYNC, dir, LAST_WAIT.toSeconds());
        }
    }

    private void run() {
        try {
            boolean last;
            do {
                last = !extracting;
                long started = System.nanoTime();
                if (!syncOnce()) {
                    return;
                }
                long left = PACE.toNanos() - (System.nanoTime() - started);
                if (!last && left > 0) {
                    TimeUnit.NANOSECONDS.sleep(left);
                }
            } while (!last);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** False when {@code sync} cannot be run at all. */
    private boolean syncOnce() throws InterruptedException {
        Process p;
        try {
            p = new ProcessBuilder(SYNC, "-f", dir.toString()).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        } catch (IOException e) {
            LOG.infof("cannot start %s -f on %s (the server syncs it itself): %s", SYNC, dir, e.getMessage());
            return false;
        }
        try {
            p.waitFor();
            return true;
        } catch (InterruptedException e) {
            p.destroy();
            throw e;
        }
    }
}
