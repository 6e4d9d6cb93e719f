package io.pgha.backup.wal;

import io.pgha.backup.core.Compression;
import io.pgha.backup.core.RepositoryLayout;
import io.pgha.backup.core.WalDecisions;
import io.pgha.backup.core.WalFileName;
import io.pgha.backup.repository.ChecksumMismatchException;
import io.pgha.backup.repository.FilesystemRepository;
import io.pgha.backup.repository.Repository;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.*;

class WalArchiveTest {
    private static final int SEGMENT_BYTES = 16 * 1024 * 1024;

    @TempDir
    Path dir;

    @Test
    void pushesCompressedIdempotentlyAndRefusesOtherContent() throws Exception {
        WalArchive archive = new WalArchive(new FilesystemRepository(dir), new RepositoryLayout("c", Compression.ZSTD));
        WalFileName f = WalFileName.parse("000000010000000000000001");
        byte[] segment = new byte[SEGMENT_BYTES];
        Arrays.fill(segment, 0, 1000, (byte) 7);
        assertEquals(WalDecisions.Push.STORE, archive.push(f, segment));
        assertTrue(Files.size(dir.resolve("c/wal/00000001/000000010000000000000001.zst")) < SEGMENT_BYTES / 100);
        assertEquals(WalDecisions.Push.ALREADY_STORED, archive.push(f, segment.clone()));
        byte[] other = segment.clone();
        other[5] = 1;
        assertEquals(WalDecisions.Push.CONFLICT, archive.push(f, other));
        assertArrayEquals(segment, archive.fetch(f).content().orElseThrow());
    }

    /** A filesystem repository that counts the stored objects read through it. */
    private static final class CountingRepository implements Repository {
        final FilesystemRepository stored;
        final AtomicInteger opened = new AtomicInteger();

        CountingRepository(Path root) {
            stored = new FilesystemRepository(root);
        }

        @Override
        public long putIfAbsent(String key, InputStream in) throws IOException {
            return stored.putIfAbsent(key, in);
        }

        @Override
        public Optional<InputStream> open(String key) throws IOException {
            Optional<InputStream> in = stored.open(key);
            in.ifPresent(found -> opened.incrementAndGet());
            return in;
        }

        @Override
        public boolean exists(String key) {
            return stored.exists(key);
        }

        @Override
        public List<String> list(String prefix) throws IOException {
            return stored.list(prefix);
        }

        @Override
        public void delete(String key) throws IOException {
            stored.delete(key);
        }
    }

    @Test
    void theStandbysPushesOfASegmentJustStoredAreJudgedWithoutReadingItBack() throws Exception {
        CountingRepository repo = new CountingRepository(dir);
        WalArchive archive = new WalArchive(repo, new RepositoryLayout("c", Compression.ZSTD));
        WalFileName f = WalFileName.parse("000000010000000000000001");
        byte[] segment = new byte[SEGMENT_BYTES];
        Arrays.fill(segment, 0, 1000, (byte) 7);
        assertEquals(WalDecisions.Push.STORE, archive.push(f, segment));
        // archive_mode = always: the two standbys push the same segment right after the primary
        assertEquals(WalDecisions.Push.ALREADY_STORED, archive.push(f, segment.clone()));
        assertEquals(WalDecisions.Push.ALREADY_STORED, archive.push(f, segment.clone()));
        byte[] other = segment.clone();
        other[5] = 1;
        assertEquals(WalDecisions.Push.CONFLICT, archive.push(f, other));
        assertEquals(0, repo.opened.get(), "stored objects read back to judge a push");
        // retention removed it: a later push stores it again rather than being told it is there
        repo.delete("c/wal/00000001/000000010000000000000001.zst");
        assertEquals(WalDecisions.Push.STORE, archive.push(f, segment.clone()));
        assertArrayEquals(segment, archive.fetch(f).content().orElseThrow());
        // a push this archive has not seen is still judged against what is stored
        WalArchive another = new WalArchive(repo, new RepositoryLayout("c", Compression.ZSTD));
        assertEquals(WalDecisions.Push.CONFLICT, another.push(f, other));
    }

    @Test
    void aChangeOfCompressionKeepsOneCopyPerSegmentAndEveryCopyReadable() throws Exception {
        FilesystemRepository repo = new FilesystemRepository(dir);
        WalFileName first = WalFileName.parse("000000010000000000000001");
        WalFileName second = WalFileName.parse("000000010000000000000002");
        byte[] a = "segment one".repeat(100).getBytes();
        byte[] b = "segment two".repeat(100).getBytes();
        WalArchive zstd = new WalArchive(repo, new RepositoryLayout("c", Compression.ZSTD));
        WalArchive lz4 = new WalArchive(repo, new RepositoryLayout("c", Compression.LZ4));
        WalArchive none = new WalArchive(repo, new RepositoryLayout("c", Compression.NONE));
        assertEquals(WalDecisions.Push.STORE, zstd.push(first, a));
        assertEquals(WalDecisions.Push.ALREADY_STORED, lz4.push(first, a));
        assertEquals(WalDecisions.Push.CONFLICT, none.push(first, b));
        assertEquals(WalDecisions.Push.STORE, lz4.push(second, b));
        assertEquals(java.util.Set.of("c/wal/00000001/000000010000000000000001.zst", "c/wal/00000001/000000010000000000000002.lz4"),
                java.util.Set.copyOf(repo.list("c/wal/")));
        for (WalArchive reader : java.util.List.of(zstd, lz4, none)) {
            assertArrayEquals(a, reader.fetch(first).content().orElseThrow());
            assertArrayEquals(b, reader.fetch(second).content().orElseThrow());
        }
    }

    @Test
    void fetchTellsTheEndOfTheArchiveFromAHoleAndFromCorruption() throws Exception {
        WalArchive archive = new WalArchive(new FilesystemRepository(dir), new RepositoryLayout("c", Compression.ZSTD));
        archive.push(WalFileName.parse("000000010000000000000001"), new byte[] {1});
        archive.push(WalFileName.parse("000000010000000000000003"), new byte[] {3});
        assertInstanceOf(WalDecisions.NotFound.class,
                archive.fetch(WalFileName.parse("000000010000000000000004")).missing().orElseThrow());
        assertInstanceOf(WalDecisions.Hole.class,
                archive.fetch(WalFileName.parse("000000010000000000000002")).missing().orElseThrow());
        Path stored = dir.resolve("c/wal/00000001/000000010000000000000003.zst");
        byte[] raw = Files.readAllBytes(stored);
        raw[raw.length - 1] ^= 1;
        Files.write(stored, raw);
        assertThrows(ChecksumMismatchException.class, () -> archive.fetch(WalFileName.parse("000000010000000000000003")));
    }
}
