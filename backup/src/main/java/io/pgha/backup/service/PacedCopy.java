package io.pgha.backup.service;

import io.vertx.core.Context;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Copies a stream into an HTTP response from a worker thread without letting the response pile up
 * in memory. Vert.x hands each write of a worker thread to the connection's event loop as a task,
 * and a response reports its queue full only once those tasks have put the bytes into the
 * socket's buffer: while the event loop lags (a saturated machine), a fast source such as a
 * decompressing repository stream queues all it reads, until the service's direct memory (its
 * -Xmx, 256 MiB under the launcher) runs out and the connection is cut. The provisioner then saw a
 * 2 GB base backup end after 190-330 MB with "EOF reached while reading". So after every
 * {@link #WINDOW} bytes the copy waits until the event loop has run what was queued before it;
 * from then on the response's own queue limit holds.
 */
final class PacedCopy {
    /** Bytes written between two waits: a few event-loop tasks' worth, small beside the memory. */
    static final int WINDOW = 16 << 20;
    /**
     * Bytes per write, each an event-loop task: with 64 KiB writes a loaded machine served a
     * restore's base backup at 36 MB/s while decompressing it alone ran at 400 MB/s and more.
     */
    private static final int CHUNK = 1 << 20;
    /** An event loop that runs nothing for this long is gone, not late. */
    private static final Duration EVENT_LOOP_TIMEOUT = Duration.ofMinutes(2);

    private PacedCopy() {
    }

    /**
     * Copies {@code in} to {@code out}, pacing the writes by {@code eventLoop}, the request's
     * context ({@code Vertx.currentContext()} on the worker thread); without one it copies unpaced.
     */
    static long copy(InputStream in, OutputStream out, Context eventLoop) throws IOException {
        byte[] buffer = new byte[CHUNK];
        long total = 0;
        long sincePause = 0;
        int n;
        while ((n = in.read(buffer)) >= 0) {
            out.write(buffer, 0, n);
            total += n;
            sincePause += n;
            if (sincePause >= WINDOW && eventLoop != null) {
                out.flush();
                awaitEventLoop(eventLoop);
                sincePause = 0;
            }
        }
        return total;
    }

    /** Returns once the event loop has run the tasks queued before this call (it runs them in order). */
    private static void awaitEventLoop(Context eventLoop) throws IOException {
        CompletableFuture<Void> ran = new CompletableFuture<>();
        eventLoop.runOnContext(v -> ran.complete(null));
        try {
            ran.get(EVENT_LOOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while the HTTP event loop caught up");
        } catch (ExecutionException | TimeoutException e) {
            throw new IOException("the HTTP event loop ran nothing for " + EVENT_LOOP_TIMEOUT.toSeconds() + " s", e);
        }
    }
}
