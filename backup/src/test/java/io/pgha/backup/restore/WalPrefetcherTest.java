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
import java.util.concurrent.Executor;

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
}
