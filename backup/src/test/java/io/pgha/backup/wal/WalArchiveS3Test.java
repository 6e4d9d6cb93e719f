package io.pgha.backup.wal;

import io.pgha.backup.core.Compression;
import io.pgha.backup.core.RepositoryLayout;
import io.pgha.backup.core.WalDecisions;
import io.pgha.backup.core.WalFileName;
import io.pgha.backup.repository.S3Repository;
import io.pgha.backup.testing.S3Proxy;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.*;

/** WAL pushes over a real S3-compatible server (s3proxy, which ignores If-None-Match). */
class WalArchiveS3Test {
    private static final int PUSHERS = 6;

    @TempDir
    Path dir;

    /** The primary and its standbys (archive_mode = always) push one segment at once: it is new once. */
    @Test
    void concurrentPushesOfOneSegmentStoreItOnce() throws Exception {
        try (S3Proxy s3 = S3Proxy.start(dir)) {
            WalArchive archive = new WalArchive(new S3Repository(s3.createBucket("wal"), "wal"),
                    new RepositoryLayout("c", Compression.ZSTD));
            byte[] segment = "the same segment".repeat(100_000).getBytes();
            WalFileName name = WalFileName.parse("000000010000000000000007");
            ExecutorService pool = Executors.newFixedThreadPool(PUSHERS);
            try {
                CountDownLatch start = new CountDownLatch(1);
                List<Future<WalDecisions.Push>> pushes = new ArrayList<>();
                for (int i = 0; i < PUSHERS; i++) {
                    pushes.add(pool.submit(() -> {
                        start.await();
                        return archive.push(name, segment);
                    }));
                }
                start.countDown();
                List<WalDecisions.Push> outcomes = new ArrayList<>();
                for (Future<WalDecisions.Push> p : pushes) {
                    outcomes.add(p.get());
                }
                assertEquals(1, outcomes.stream().filter(o -> o == WalDecisions.Push.STORE).count(), outcomes.toString());
                assertEquals(PUSHERS - 1, outcomes.stream().filter(o -> o == WalDecisions.Push.ALREADY_STORED).count());
            } finally {
                pool.shutdownNow();
            }
            assertArrayEquals(segment, archive.fetch(name).content().orElseThrow());
        }
    }
}
