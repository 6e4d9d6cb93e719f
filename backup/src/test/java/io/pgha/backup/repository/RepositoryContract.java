package io.pgha.backup.repository;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * What every Repository must do, asserted the same way against each kind: a subclass supplies
 * the repository and a way to damage a stored object behind the repository's back.
 */
abstract class RepositoryContract {
    /** Larger than two S3 parts, so a streamed put takes the multipart path with a short last part. */
    static final long LARGE = 2L * S3Repository.PART_SIZE + 1_234_567;

    abstract Repository repository();

    /** Flips one byte near the end of the stored object under {@code key}. */
    abstract void corrupt(String key) throws IOException;

    static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void storesAndReadsBack() throws Exception {
        Repository repo = repository();
        assertTrue(repo.putIfAbsent("c/wal/00000001/a", bytes("hello")));
        assertArrayEquals(bytes("hello"), repo.get("c/wal/00000001/a").orElseThrow());
        try (InputStream in = repo.open("c/wal/00000001/a").orElseThrow()) {
            assertArrayEquals(bytes("hello"), in.readAllBytes());
        }
        assertTrue(repo.get("c/wal/00000001/b").isEmpty());
        assertTrue(repo.open("c/wal/00000001/b").isEmpty());
        assertTrue(repo.putIfAbsent("c/empty", new byte[0]));
        assertArrayEquals(new byte[0], repo.get("c/empty").orElseThrow());
    }

    @Test
    void neverReplacesAnExistingObject() throws Exception {
        Repository repo = repository();
        assertTrue(repo.putIfAbsent("c/x", bytes("first")));
        assertFalse(repo.putIfAbsent("c/x", bytes("first")), "the same content again stores nothing new");
        assertFalse(repo.putIfAbsent("c/x", bytes("second")));
        assertEquals(-1, repo.putIfAbsent("c/x", new java.io.ByteArrayInputStream(bytes("third"))));
        assertArrayEquals(bytes("first"), repo.get("c/x").orElseThrow());
    }

    @Test
    void deletesAnObjectAndToleratesAMissingOne() throws Exception {
        Repository repo = repository();
        assertTrue(repo.putIfAbsent("c/base/b1/backup.json", bytes("{}")));
        assertTrue(repo.putIfAbsent("c/base/b2/backup.json", bytes("{}")));
        assertTrue(repo.exists("c/base/b1/backup.json"));
        repo.delete("c/base/b1/backup.json");
        assertTrue(repo.get("c/base/b1/backup.json").isEmpty());
        assertFalse(repo.exists("c/base/b1/backup.json"));
        assertFalse(repo.exists("c/base/b1"), "a prefix is no object");
        assertEquals(java.util.List.of("c/base/b2/backup.json"), repo.list("c/base/"));
        repo.delete("c/base/b1/backup.json");
        // a deleted key may be written again (retention removes; a new backup never reuses a name, but WAL may come back)
        assertTrue(repo.putIfAbsent("c/base/b1/backup.json", bytes("{\"again\":1}")));
    }

    @Test
    void detectsACorruptObjectOnEveryRead() throws Exception {
        Repository repo = repository();
        repo.putIfAbsent("c/x", bytes("some wal bytes"));
        corrupt("c/x");
        ChecksumMismatchException e = assertThrows(ChecksumMismatchException.class, () -> repo.get("c/x"));
        assertTrue(e.getMessage().contains("c/x"), e.getMessage());
        try (InputStream in = repo.open("c/x").orElseThrow()) {
            assertThrows(ChecksumMismatchException.class, in::readAllBytes);
        }
    }

    @Test
    void streamsALargeObjectInAndOutCheckingItAtTheEnd() throws Exception {
        Repository repo = repository();
        PatternStream source = new PatternStream(LARGE, 42);
        assertEquals(LARGE, repo.putIfAbsent("c/base/b1/base.tar.zst", source));
        byte[] written = source.digest.digest();

        MessageDigest read = MessageDigest.getInstance("SHA-256");
        long total = 0;
        try (InputStream in = repo.open("c/base/b1/base.tar.zst").orElseThrow()) {
            byte[] buf = new byte[1 << 16];
            for (int n; (n = in.read(buf)) >= 0; ) {
                read.update(buf, 0, n);
                total += n;
            }
        }
        assertEquals(LARGE, total);
        assertArrayEquals(written, read.digest());
        assertEquals(-1, repo.putIfAbsent("c/base/b1/base.tar.zst", new PatternStream(LARGE, 7)));

        corrupt("c/base/b1/base.tar.zst");
        try (InputStream in = repo.open("c/base/b1/base.tar.zst").orElseThrow()) {
            assertThrows(ChecksumMismatchException.class, () -> in.transferTo(java.io.OutputStream.nullOutputStream()));
        }
    }

    @Test
    void listsEveryKeyUnderAPrefixPastOnePage() throws Exception {
        Repository repo = repository();
        // S3 lists at most 1000 keys per page
        int count = 1001;
        IntStream.range(0, count).parallel().forEach(i -> {
            try {
                assertTrue(repo.putIfAbsent(String.format("c/wal/00000001/%06d", i), bytes("x")));
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        repo.putIfAbsent("c/wal/00000002/000000", bytes("y"));
        repo.putIfAbsent("other/wal/00000001/000000", bytes("z"));
        List<String> listed = repo.list("c/wal/00000001/");
        Set<String> unique = new HashSet<>(listed);
        assertEquals(count, listed.size());
        assertEquals(count, unique.size());
        assertTrue(unique.contains("c/wal/00000001/001000"));
        assertEquals(count + 1, repo.list("c/").size());
    }

    /** A deterministic stream of pseudo-random bytes that is never held in memory whole. */
    static final class PatternStream extends InputStream {
        private final Random random;
        private long left;
        final MessageDigest digest;

        PatternStream(long size, long seed) throws Exception {
            this.left = size;
            this.random = new Random(seed);
            this.digest = MessageDigest.getInstance("SHA-256");
        }

        @Override
        public int read() {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) {
            if (left == 0) {
                return -1;
            }
            int n = (int) Math.min(len, left);
            byte[] chunk = new byte[n];
            random.nextBytes(chunk);
            System.arraycopy(chunk, 0, b, off, n);
            digest.update(chunk);
            left -= n;
            return n;
        }
    }
}
