package io.pgha.backup.service;

import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.vertx.core.Vertx;
import jakarta.inject.Inject;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.StreamingOutput;
import org.junit.jupiter.api.Test;

import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A response streamed from a worker thread stays bounded in memory while the HTTP event loop
 * lags: with every event loop held, the source is read at most a few windows ahead. (Copied
 * unpaced, the whole stream was read into the event loop's task queue at once; that is what cut a
 * 2 GB base backup after a few hundred MB on a saturated machine.) The stream then completes whole.
 */
@QuarkusTest
@TestProfile(WalResourceTest.TempRepository.class)
class PacedCopyTest {
    private static final long SIZE = 128L << 20;
    /** Read ahead allowed while the event loop is held: two windows, a chunk and the response's own buffer. */
    private static final long BOUND = 4L * PacedCopy.WINDOW;
    private static final AtomicLong produced = new AtomicLong();

    @Inject
    Vertx vertx;

    @TestHTTPResource("/paced-copy-test")
    URI uri;

    /** A test-only endpoint streaming {@link #SIZE} counted bytes the way RestoreResource streams a backup. */
    @Path("/paced-copy-test")
    public static class Source {
        @GET
        public Response get() {
            StreamingOutput body = out -> {
                try (InputStream in = new Counted(SIZE)) {
                    PacedCopy.copy(in, out, Vertx.currentContext());
                }
            };
            return Response.ok(body, MediaType.APPLICATION_OCTET_STREAM_TYPE).build();
        }
    }

    @Test
    void aLaggingEventLoopHoldsTheSourceBackAndTheStreamCompletes() throws Exception {
        produced.set(0);
        HttpResponse<InputStream> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(uri).GET().build(),
                HttpResponse.BodyHandlers.ofInputStream());
        assertEquals(200, r.statusCode());
        try (InputStream body = r.body()) {
            long read = body.readNBytes(8 << 20).length;
            CountDownLatch release = new CountDownLatch(1);
            vertx.nettyEventLoopGroup().forEach(loop -> loop.execute(() -> {
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }));
            try {
                long before = produced.get();
                // held for 2 s, the source must not run ahead: unpaced it ran to its end within milliseconds
                await().during(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(10))
                        .until(() -> produced.get() - before <= BOUND);
            } finally {
                release.countDown();
            }
            read += body.transferTo(java.io.OutputStream.nullOutputStream());
            assertEquals(SIZE, read);
        }
    }

    /** {@code size} zero bytes, counted into {@link #produced} as they are read. */
    private static final class Counted extends InputStream {
        private long left;

        Counted(long size) {
            this.left = size;
        }

        @Override
        public int read() {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : 0;
        }

        @Override
        public int read(byte[] b, int off, int len) {
            if (left == 0) {
                return -1;
            }
            int n = (int) Math.min(len, left);
            left -= n;
            produced.addAndGet(n);
            return n;
        }
    }
}
