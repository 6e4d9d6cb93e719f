package io.pgha.backup.service;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.pgha.backup.core.WalDecisions;
import io.pgha.backup.core.WalFileName;
import io.pgha.local.PgCtl;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The segments waiting in a primary's archive_status are stored ahead of its archiver, whose own
 * push then only compares. Each case lets the pushes started by one look finish (the pool is shut
 * down and drained), so what was stored, and what was not, is known without waiting on a clock.
 * The pool's threads start their pushes only once it is shut down: a push that finished before
 * that would look again and start more (on an idle machine the first case then stored four).
 */
class WalPushAheadTest {
    @TempDir
    Path root;

    private WalArchives archives;
    private WalPushAhead pushAhead;
    private Path dataDir;
    private final CountDownLatch shutDown = new CountDownLatch(1);

    @BeforeEach
    void setUp() throws Exception {
        archives = new WalArchives();
        archives.registry = new SimpleMeterRegistry();
        archives.repositories = new Repositories();
        archives.repositoryRoot = Files.createDirectory(root.resolve("backups"));
        archives.home = Files.createDirectory(root.resolve("home"));
        pushAhead = new WalPushAhead();
        pushAhead.archives = archives;
        pushAhead.pushers = new ThreadPoolExecutor(WalPushAhead.IN_FLIGHT, WalPushAhead.IN_FLIGHT, 0, TimeUnit.SECONDS,
                new LinkedBlockingQueue<>(), task -> {
                    Thread t = new Thread(() -> {
                        try {
                            shutDown.await();
                        } catch (InterruptedException e) {
                            return;
                        }
                        task.run();
                    });
                    t.setDaemon(true);
                    return t;
                });
        dataDir = Files.createDirectories(root.resolve("data"));
        Files.createDirectories(dataDir.resolve("pg_wal/archive_status"));
    }

    private static WalFileName seg(int n) {
        return WalFileName.parse(String.format("0000000100000000%08X", n));
    }

    private static byte[] content(int n) {
        byte[] b = new byte[64 * 1024];
        Arrays.fill(b, (byte) n);
        return b;
    }

    /** Segment n in pg_wal, marked ready for the archiver. */
    private void waiting(int n) throws Exception {
        Files.write(dataDir.resolve("pg_wal").resolve(seg(n).name()), content(n));
        Files.createFile(dataDir.resolve("pg_wal/archive_status").resolve(seg(n).name() + ".ready"));
    }

    private void drain() throws Exception {
        pushAhead.pushers.shutdown();
        shutDown.countDown();
        assertTrue(pushAhead.pushers.awaitTermination(30, TimeUnit.SECONDS));
    }

    private boolean stored(int n) throws Exception {
        return archives.of("shop").archive().stored(seg(n)).isPresent();
    }

    @Test
    void theOldestSegmentsWaitingAreStoredAndTheArchiversPushOfThemOnlyCompares() throws Exception {
        for (int n = 2; n <= 5; n++) {
            waiting(n);
        }
        // what the archiver does not push: a timeline history file (it pushes that itself)
        Files.createFile(dataDir.resolve("pg_wal/archive_status/00000002.history.ready"));

        pushAhead.pushWaiting("shop", dataDir);
        drain();

        // the first look starts the two oldest (each finished one looks again, which the drained pool refuses)
        assertArrayEquals(content(2), archives.of("shop").archive().stored(seg(2)).orElseThrow());
        assertTrue(stored(3));
        assertEquals(2.0, archives.registry.get("pgha.wal.archived.segments").counter().count());
        // the archiver reaches 2: its push finds it stored, and is no new segment
        assertEquals(WalDecisions.Push.ALREADY_STORED, archives.of("shop").archive().push(seg(2), content(2)));
    }

    @Test
    void nothingIsPushedAheadWhileTheInstanceRecovers() throws Exception {
        waiting(2);
        // a restore: archive_command marks the source's segments archived without pushing them
        Files.createFile(dataDir.resolve(PgCtl.RECOVERY_SIGNAL));

        pushAhead.pushWaiting("shop", dataDir);
        drain();

        assertFalse(stored(2));
    }
}
