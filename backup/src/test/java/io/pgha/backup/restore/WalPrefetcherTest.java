package io.pgha.backup.restore;

import io.pgha.backup.core.Compression;
import io.pgha.backup.core.RepositoryLayout;
import io.pgha.backup.core.WalDecisions;
import io.pgha.backup.core.WalFileName;
import io.pgha.backup.repository.FilesystemRepository;
import io.pgha.backup.wal.WalArchive;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

class WalPrefetcherTest {
    /** The smallest WAL segment size PostgreSQL allows; the read-ahead derives it from the segment read. */
    private static final int SEGMENT = 1024 * 1024;

    @TempDir
    Path root;

    /** Runs nothing until told: what was read ahead is visible, and nothing races the assertions. */
    private static final class HeldExecutor implements Executor {
        final List<Runnable> held = new ArrayList<>();

        @Override
        public synchronized void execute(Runnable r) {
            held.add(r);
        }

        synchronized void runAll() {
            held.forEach(Runnable::run);
            held.clear();
        }
    }

    private static byte[] segment(int n) {
        byte[] b = new byte[SEGMENT];
        Arrays.fill(b, (byte) n);
        return b;
    }

    private static WalFileName seg(int n) {
        return WalFileName.parse(String.format("0000000100000000%08X", n));
    }

    @Test
    void aFetchReadsTheNextSegmentsAheadAndServesThemFromThere() throws Exception {
        FilesystemRepository repository = new FilesystemRepository(root);
        RepositoryLayout layout = new RepositoryLayout("src", Compression.ZSTD);
        WalArchive archive = new WalArchive(repository, layout);
        for (int n = 1; n <= 6; n++) {
            archive.push(seg(n), segment(n));
        }
        HeldExecutor executor = new HeldExecutor();
        WalPrefetcher prefetcher = new WalPrefetcher(repository, layout, 3, executor);

        assertArrayEquals(segment(1), prefetcher.fetch(seg(1)).content().orElseThrow());
        // segments 2, 3 and 4 are being read while PostgreSQL replays 1
        assertEquals(3, executor.held.size());
        executor.runAll();
        // the read-ahead is what is served: the stored files are gone, the answers are not
        for (int n = 2; n <= 4; n++) {
            Files.delete(root.resolve(layout.walKey(seg(n))));
        }
        assertArrayEquals(segment(2), prefetcher.fetch(seg(2)).content().orElseThrow());
        assertArrayEquals(segment(3), prefetcher.fetch(seg(3)).content().orElseThrow());
        executor.runAll();
        assertArrayEquals(segment(4), prefetcher.fetch(seg(4)).content().orElseThrow());
    }

    @Test
    void anAbsenceIsJudgedByTheArchiveNotByTheReadAhead() throws Exception {
        FilesystemRepository repository = new FilesystemRepository(root);
        RepositoryLayout layout = new RepositoryLayout("src", Compression.ZSTD);
        WalArchive archive = new WalArchive(repository, layout);
        for (int n : new int[] {1, 3}) {
            archive.push(seg(n), segment(n));
        }
        HeldExecutor executor = new HeldExecutor();
        WalPrefetcher prefetcher = new WalPrefetcher(repository, layout, 2, executor);
        prefetcher.fetch(seg(1));
        executor.runAll();
        // 2 is missing below the newest stored (3): a hole, never "no such file"
        WalDecisions.Missing hole = prefetcher.fetch(seg(2)).missing().orElseThrow();
        assertTrue(assertInstanceOf(WalDecisions.Hole.class, hole).message().contains(seg(2).name()));
        // beyond the newest: the archive's end
        assertInstanceOf(WalDecisions.NotFound.class, prefetcher.fetch(seg(4)).missing().orElseThrow());
    }

    @Test
    void segmentsAreSpooledInOrderFromTheStartAndRefilledAsTheyAreTaken() throws Exception {
        try (Spooling s = spooling(5)) {
            WalArchive archive = s.archive();
            Path spool = s.spool();
            WalPrefetcher prefetcher = s.prefetcher();
            // the restore starts: the backup's first segment on, before restore_command asks for anything
            prefetcher.startAt(seg(1));
            await().atMost(Duration.ofSeconds(10)).until(() -> spooled(spool).equals(List.of(seg(1).name(), seg(2).name())));
            assertArrayEquals(segment(1), Files.readAllBytes(spool.resolve(seg(1).name())));
            assertArrayEquals(segment(1), prefetcher.fetch(seg(1)).content().orElseThrow());
            // two segments may wait: 2 and 3, decompressed, under their own names
            await().atMost(Duration.ofSeconds(10)).until(() -> spooled(spool).equals(List.of(seg(2).name(), seg(3).name())));
            assertArrayEquals(segment(2), Files.readAllBytes(spool.resolve(seg(2).name())));
            // restore_command took 2: 4 follows, and 5, the archive's last, once 3 is taken
            Files.delete(spool.resolve(seg(2).name()));
            await().atMost(Duration.ofSeconds(10)).until(() -> spooled(spool).equals(List.of(seg(3).name(), seg(4).name())));
            Files.delete(spool.resolve(seg(3).name()));
            await().atMost(Duration.ofSeconds(10)).until(() -> spooled(spool).equals(List.of(seg(4).name(), seg(5).name())));
            assertArrayEquals(segment(5), Files.readAllBytes(spool.resolve(seg(5).name())));
            // the spool fell behind and restore_command asked the service: filling starts again after it
            Files.delete(spool.resolve(seg(4).name()));
            Files.delete(spool.resolve(seg(5).name()));
            archive.push(seg(6), segment(6));
            assertArrayEquals(segment(5), prefetcher.fetch(seg(5)).content().orElseThrow());
            await().atMost(Duration.ofSeconds(10)).until(() -> spooled(spool).equals(List.of(seg(6).name())));
            // the restore is over: nothing waits any more
            prefetcher.close();
            assertEquals(List.of(), spooled(spool));
        }
    }

    @Test
    void restoreCommandsMarkInTheSpoolTakesNoSegmentsPlace() throws Exception {
        try (Spooling s = spooling(3)) {
            Path spool = s.spool();
            s.prefetcher().startAt(seg(1));
            await().atMost(Duration.ofSeconds(10)).until(() -> spooled(spool).equals(List.of(seg(1).name(), seg(2).name())));
            // what restore_command leaves at a "no such file" (LocalLayout#restoreArchiveEnd)
            Files.createFile(spool.resolve("archive-end"));
            Files.delete(spool.resolve(seg(1).name()));
            await().atMost(Duration.ofSeconds(10))
                    .until(() -> spooled(spool).equals(List.of(seg(2).name(), seg(3).name(), "archive-end")));
        }
    }

    /** An archive of segments 1 to {@code segments} and a prefetcher that spools two of them ahead into a directory of its own. */
    private record Spooling(WalArchive archive, Path spool, ExecutorService readers, WalPrefetcher prefetcher)
            implements AutoCloseable {
        @Override
        public void close() {
            prefetcher.close();
            readers.shutdownNow();
        }
    }

    private Spooling spooling(int segments) throws Exception {
        FilesystemRepository repository = new FilesystemRepository(root.resolve("repo"));
        RepositoryLayout layout = new RepositoryLayout("src", Compression.ZSTD);
        WalArchive archive = new WalArchive(repository, layout);
        for (int n = 1; n <= segments; n++) {
            archive.push(seg(n), segment(n));
        }
        Path spool = Files.createDirectory(root.resolve("spool"));
        ExecutorService readers = Executors.newFixedThreadPool(2);
        return new Spooling(archive, spool, readers, new WalPrefetcher(repository, layout, 2, readers, Optional.of(spool)));
    }

    @Test
    void restoreCommandFallingBackFromTheSpoolKeepsNoMoreThanTheReadAheadDepthInMemory() throws Exception {
        FilesystemRepository repository = new FilesystemRepository(root.resolve("repo"));
        RepositoryLayout layout = new RepositoryLayout("src", Compression.ZSTD);
        WalArchive archive = new WalArchive(repository, layout);
        for (int n = 1; n <= 12; n++) {
            archive.push(seg(n), segment(n));
        }
        Path spool = Files.createDirectory(root.resolve("spool"));
        HeldExecutor executor = new HeldExecutor();
        WalPrefetcher prefetcher = new WalPrefetcher(repository, layout, 3, executor, Optional.of(spool));
        try {
            prefetcher.startAt(seg(1));
            await().atMost(Duration.ofSeconds(10)).until(() -> {
                executor.runAll();
                return spooled(spool).equals(List.of(seg(1).name(), seg(2).name(), seg(3).name()));
            });
            // the spool is full and has read 4, 5 and 6 ahead; PostgreSQL looked for 1 a moment before
            // it appeared, so restore_command asked the service: its window (2, 3, 4) replaces the
            // spool's instead of adding to it (two windows once held 2k segments and ran out of heap)
            assertArrayEquals(segment(1), prefetcher.fetch(seg(1)).content().orElseThrow());
            assertTrue(prefetcher.heldAhead() <= 3, "segments held ahead: " + prefetcher.heldAhead());
            // and the spool goes on from 2, with the right content
            await().atMost(Duration.ofSeconds(10)).until(() -> {
                executor.runAll();
                return spooled(spool).equals(List.of(seg(2).name(), seg(3).name(), seg(4).name()));
            });
            assertArrayEquals(segment(4), Files.readAllBytes(spool.resolve(seg(4).name())));
            assertTrue(prefetcher.heldAhead() <= 3, "segments held ahead: " + prefetcher.heldAhead());
        } finally {
            prefetcher.close();
        }
    }

    /** The names in the spool, partial files included, sorted. */
    private static List<String> spooled(Path spool) throws java.io.IOException {
        try (java.util.stream.Stream<Path> files = Files.list(spool)) {
            return files.map(f -> f.getFileName().toString()).sorted().toList();
        }
    }
}
