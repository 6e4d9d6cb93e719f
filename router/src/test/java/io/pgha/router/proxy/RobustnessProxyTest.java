package io.pgha.router.proxy;

import io.pgha.router.pool.ServerPool;
import io.pgha.router.protocol.PgMessages;
import io.pgha.router.protocol.PgProtocol;
import io.netty.buffer.PooledByteBufAllocator;
import io.vertx.core.buffer.Buffer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import javax.management.NotificationEmitter;
import javax.management.NotificationListener;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Malformed, truncated and oversized input closes only the connection it came on. */
class RobustnessProxyTest {
    static RouterFixture fx;
    static final int MAX_MESSAGE = 1024 * 1024;

    @BeforeAll
    static void start() throws Exception {
        fx = RouterFixture.start(RouterSettings.defaults().withPoolSize(4).withMaxMessageSize(MAX_MESSAGE));
    }

    @AfterAll
    static void stop() throws Exception {
        fx.close();
    }

    @Test
    void oversizedStartupPacketGetsAnErrorAndTheConnectionCloses() throws IOException {
        try (RawClient c = new RawClient(fx.port)) {
            c.send(Buffer.buffer().appendInt(1 << 30).appendInt(PgProtocol.PROTOCOL_3_0));
            RawClient.Message m = c.readToEnd();
            assertNotNull(m);
            assertEquals(PgProtocol.Backend.ERROR_RESPONSE, m.type());
            assertEquals(PgProtocol.SqlState.PROTOCOL_VIOLATION, m.sqlState());
        }
    }

    @Test
    void sslRequestIsAnsweredNoThenStartupProceeds() throws IOException {
        try (RawClient c = new RawClient(fx.port)) {
            c.send(Buffer.buffer().appendInt(8).appendInt(PgProtocol.SSL_REQUEST_CODE));
            byte[] answer = new byte[1];
            assertEquals(1, c.socket.getInputStream().read(answer));
            assertEquals('N', answer[0]);
            c.login(TestCluster.APP_USER, TestCluster.APP_PASSWORD);
            c.send(PgMessages.query("select 1"));
            assertEquals('T', c.read().type());
        }
    }

    @Test
    void oversizedAndMalformedMessagesAfterLoginCloseOnlyThatConnection() throws Exception {
        try (RawClient bad = new RawClient(fx.port); RawClient bad2 = new RawClient(fx.port); Connection good = fx.connect()) {
            bad.login(TestCluster.APP_USER, TestCluster.APP_PASSWORD);
            bad.send(Buffer.buffer().appendByte(PgProtocol.Frontend.QUERY).appendInt(MAX_MESSAGE * 4));
            RawClient.Message m = bad.readToEnd();
            assertEquals(PgProtocol.Backend.ERROR_RESPONSE, m.type());
            assertEquals(PgProtocol.SqlState.PROGRAM_LIMIT_EXCEEDED, m.sqlState());

            bad2.login(TestCluster.APP_USER, TestCluster.APP_PASSWORD);
            Buffer lying = Buffer.buffer().appendByte(PgProtocol.Frontend.PARSE).appendInt(0).appendBytes("s\0select 1\0".getBytes()).appendShort((short) 999);
            lying.setInt(1, lying.length() - 1);
            bad2.send(lying);
            RawClient.Message m2 = bad2.readToEnd();
            assertEquals(PgProtocol.Backend.ERROR_RESPONSE, m2.type());
            assertEquals(PgProtocol.SqlState.PROTOCOL_VIOLATION, m2.sqlState());

            try (Statement s = good.createStatement(); ResultSet rs = s.executeQuery("select 42")) {
                rs.next();
                assertEquals(42, rs.getInt(1));
            }
        }
    }

    /**
     * One connection's worth of hostile input: random queries, Syncs, stray COPY messages and
     * other well-framed messages, then one malformed, truncated or oversized message.
     */
    private static Buffer hostileBatch(Random r, int messages, AtomicLong sent) {
        Buffer b = Buffer.buffer();
        byte[] types = {'Q', 'P', 'B', 'D', 'E', 'S', 'H', 'C', 'd', 'c', 'f', 'F', 'p', 'X', 'z', 0, (byte) 0xff};
        for (int i = 0; i < messages - 1; i++) {
            int kind = r.nextInt(100);
            if (kind < 50) {
                StringBuilder sql = new StringBuilder();
                int n = r.nextInt(40);
                for (int k = 0; k < n; k++) {
                    sql.append((char) (' ' + r.nextInt(95)));
                }
                b.appendBuffer(PgMessages.query(sql.toString()));
            } else if (kind < 75) {
                b.appendBuffer(PgMessages.sync());
            } else if (kind < 90) {
                byte[] data = new byte[r.nextInt(100)];
                r.nextBytes(data);
                b.appendByte(PgProtocol.Frontend.COPY_DATA).appendInt(data.length + 4).appendBytes(data);
            } else {
                b.appendBuffer(PgMessages.parse("", "select " + r.nextInt(), new int[0])).appendBuffer(PgMessages.sync());
            }
            sent.incrementAndGet();
        }
        byte type = types[r.nextInt(types.length)];
        byte[] payload = new byte[r.nextInt(64)];
        r.nextBytes(payload);
        switch (r.nextInt(5)) {
            case 0 -> b.appendByte(type).appendInt(payload.length + 4).appendBytes(payload);
            case 1 -> b.appendByte(type).appendInt(payload.length + 4 + 1000).appendBytes(payload);
            case 2 -> b.appendByte(type).appendInt(Integer.MAX_VALUE - r.nextInt(1000)).appendBytes(payload);
            case 3 -> b.appendByte(PgProtocol.Frontend.COPY_DATA).appendInt(Integer.MAX_VALUE).appendBytes(new byte[70_000]);
            default -> b.appendByte(type).appendInt(r.nextInt(4) - 2);
        }
        sent.incrementAndGet();
        return b;
    }

    /**
     * Heap still in use after the most recent collection, summed over the heap pools: what the
     * process keeps, without the garbage that plain heap usage also counts.
     */
    private static long liveHeapAfterLastGc() {
        long live = 0;
        for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
            if (pool.getType() == MemoryType.HEAP && pool.getCollectionUsage() != null) {
                live += pool.getCollectionUsage().getUsed();
            }
        }
        return live;
    }

    private static long liveHeapNow() {
        System.gc();
        return liveHeapAfterLastGc();
    }

    /** Live heap may grow this much while the router is fuzzed: every message is bounded by MAX_MESSAGE. */
    static final long MAX_LIVE_HEAP_GROWTH = 64L * 1024 * 1024;
    /** Netty's pooled direct memory (socket buffers) stays below this: a few arena chunks, not one per message. */
    static final long MAX_DIRECT_MEMORY = 256L * 1024 * 1024;

    @Test
    void fuzzManyConnectionsWhileAWellBehavedClientKeepsWorking() throws Exception {
        long baseline = liveHeapNow();
        AtomicLong peakLive = new AtomicLong(baseline);
        AtomicBoolean running = new AtomicBoolean(true);
        AtomicLong goodQueries = new AtomicLong();
        AtomicInteger goodFailures = new AtomicInteger();
        ExecutorService exec = Executors.newFixedThreadPool(7);
        // the peak of what survives each collection while hostile connections come and go
        NotificationListener afterEachGc = (notification, handback) -> peakLive.accumulateAndGet(liveHeapAfterLastGc(), Math::max);
        for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
            ((NotificationEmitter) gc).addNotificationListener(afterEachGc, null, null);
        }
        try {
            Future<?> good = exec.submit(() -> {
                try (Connection c = fx.connect(); Statement s = c.createStatement()) {
                    while (running.get()) {
                        try (ResultSet rs = s.executeQuery("select 7 * 6")) {
                            rs.next();
                            if (rs.getInt(1) == 42) {
                                goodQueries.incrementAndGet();
                            } else {
                                goodFailures.incrementAndGet();
                            }
                        }
                    }
                } catch (Exception e) {
                    goodFailures.incrementAndGet();
                    throw e;
                }
                return null;
            });
            AtomicLong sent = new AtomicLong();
            List<Future<?>> workers = new ArrayList<>();
            for (int w = 0; w < 6; w++) {
                int seed = w;
                workers.add(exec.submit(() -> {
                    Random r = new Random(seed);
                    for (int conn = 0; conn < 40; conn++) {
                        try (RawClient c = new RawClient(fx.port)) {
                            if (conn % 5 == 0) {
                                // hostile before login: random startup packets
                                Buffer junk = Buffer.buffer().appendInt(r.nextInt(20_000) - 100).appendInt(r.nextInt());
                                byte[] rest = new byte[r.nextInt(200)];
                                r.nextBytes(rest);
                                c.send(junk.appendBytes(rest));
                                sent.incrementAndGet();
                            } else {
                                c.login(TestCluster.APP_USER, TestCluster.APP_PASSWORD);
                                c.send(hostileBatch(r, 600, sent));
                            }
                            // half-close like a client that gives up: the router must clean up whatever state it was in
                            c.socket.shutdownOutput();
                            c.socket.setSoTimeout(20_000);
                            c.readToEnd();
                        } catch (IOException e) {
                            // a reset connection is an acceptable end for hostile input
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> f : workers) {
                f.get(150, TimeUnit.SECONDS);
            }
            running.set(false);
            good.get(30, TimeUnit.SECONDS);
            long after = liveHeapNow();
            long direct = PooledByteBufAllocator.DEFAULT.metric().usedDirectMemory();
            System.out.printf("fuzz: %d hostile messages sent, %d well-behaved queries answered meanwhile;"
                            + " live heap %d MiB before, peak %d MiB during, %d MiB after; pooled direct memory %d MiB%n",
                    sent.get(), goodQueries.get(), baseline >> 20, peakLive.get() >> 20, after >> 20, direct >> 20);
            assertTrue(sent.get() >= 100_000, "sent " + sent.get());
            assertEquals(0, goodFailures.get());
            assertTrue(goodQueries.get() > 0);
            assertTrue(peakLive.get() - baseline < MAX_LIVE_HEAP_GROWTH,
                    "live heap grew by " + ((peakLive.get() - baseline) >> 20) + " MiB during the fuzz");
            assertTrue(after - baseline < MAX_LIVE_HEAP_GROWTH / 4, "live heap kept " + ((after - baseline) >> 20) + " MiB after the fuzz");
            assertTrue(direct < MAX_DIRECT_MEMORY, "pooled direct memory " + (direct >> 20) + " MiB");
            await().atMost(Duration.ofSeconds(10)).until(() -> fx.router.clientCount() == 0);
            // nothing of the hostile connections stays behind: no sessions, no cancel keys
            await().atMost(Duration.ofSeconds(10)).until(() -> fx.router.onLoopCount(() -> fx.router.sessions().size()) == 0);
            assertEquals(0, fx.router.onLoopCount(() -> fx.router.cancelKeys.size()));
            for (ServerPool p : fx.router.pools().pools()) {
                assertTrue(p.total() <= 4, p.key() + " has " + p.total());
            }
            try (Connection c = fx.connect(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery("select 1")) {
                assertTrue(rs.next());
            }
        } finally {
            running.set(false);
            exec.shutdownNow();
            for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
                ((NotificationEmitter) gc).removeNotificationListener(afterEachGc);
            }
        }
    }
}
