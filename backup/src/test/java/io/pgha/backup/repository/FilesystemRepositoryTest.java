package io.pgha.backup.repository;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

import static org.junit.jupiter.api.Assertions.*;

class FilesystemRepositoryTest {
    @TempDir
    Path dir;

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void storesReadsAndListsWithoutLeavingTemporaryFiles() throws Exception {
        FilesystemRepository repo = new FilesystemRepository(dir.resolve("repo"));
        assertTrue(repo.putIfAbsent("c/wal/00000001/a", bytes("hello")));
        assertArrayEquals(bytes("hello"), repo.get("c/wal/00000001/a").orElseThrow());
        assertTrue(repo.get("c/wal/00000001/a").isPresent());
        assertTrue(repo.get("c/wal/00000001/b").isEmpty());
        assertEquals(java.util.List.of("c/wal/00000001/a"), repo.list("c/wal/00000001/"));
        try (var files = Files.list(dir.resolve("repo/c/wal/00000001"))) {
            assertEquals(1, files.count());
        }
        // archived WAL and base backups are the whole database: no local user outside the owner and its group reads them
        assertEquals("rw-r-----", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("repo/c/wal/00000001/a"))));
        for (Path d = dir.resolve("repo/c/wal/00000001"); !d.equals(dir); d = d.getParent()) {
            assertEquals("rwxr-x---", PosixFilePermissions.toString(Files.getPosixFilePermissions(d)), d.toString());
        }
    }

    @Test
    void neverReplacesAnExistingObject() throws Exception {
        FilesystemRepository repo = new FilesystemRepository(dir);
        assertTrue(repo.putIfAbsent("c/x", bytes("first")));
        assertFalse(repo.putIfAbsent("c/x", bytes("second")));
        assertArrayEquals(bytes("first"), repo.get("c/x").orElseThrow());
    }

    @Test
    void detectsCorruptionOnRead() throws Exception {
        FilesystemRepository repo = new FilesystemRepository(dir);
        repo.putIfAbsent("c/x", bytes("some wal bytes"));
        Path file = dir.resolve("c/x");
        byte[] raw = Files.readAllBytes(file);
        raw[raw.length - 1] ^= 1;
        Files.write(file, raw);
        ChecksumMismatchException e = assertThrows(ChecksumMismatchException.class, () -> repo.get("c/x"));
        assertTrue(e.getMessage().contains("c/x"), e.getMessage());
        Files.write(file, new byte[3]);
        assertThrows(ChecksumMismatchException.class, () -> repo.get("c/x"));
    }

    @Test
    void keysCannotLeaveTheRoot() {
        FilesystemRepository repo = new FilesystemRepository(dir.resolve("repo"));
        assertThrows(IllegalArgumentException.class, () -> repo.putIfAbsent("../escape", bytes("x")));
        assertThrows(IllegalArgumentException.class, () -> repo.putIfAbsent("/abs", bytes("x")));
    }

    /** Several buffers' worth of bytes that are not all alike, so a flipped byte cannot hide. */
    private static byte[] sample(int size) {
        byte[] b = new byte[size];
        new java.util.Random(42).nextBytes(b);
        return b;
    }

    @Test
    void streamsAnObjectInAndOutWithItsChecksum() throws Exception {
        FilesystemRepository repo = new FilesystemRepository(dir);
        byte[] payload = sample(3 * 65536 + 17);
        assertEquals(payload.length, repo.putIfAbsent("c/base/b1/base.tar.zst", new java.io.ByteArrayInputStream(payload)));
        try (java.io.InputStream in = repo.open("c/base/b1/base.tar.zst").orElseThrow()) {
            assertArrayEquals(payload, in.readAllBytes());
        }
        // what a stream stored, a whole read checks the same way
        assertArrayEquals(payload, repo.get("c/base/b1/base.tar.zst").orElseThrow());
        assertTrue(repo.open("c/base/b1/missing").isEmpty());
        // the header names the checksum of the payload that was streamed
        String header = new String(Files.readAllBytes(dir.resolve("c/base/b1/base.tar.zst")), 0, 84, StandardCharsets.US_ASCII);
        assertEquals("pgha-object sha256=" + Checksums.sha256(payload) + "\n", header);
    }

    @Test
    void aStreamedPutNeverReplacesAndLeavesTheStreamUnread() throws Exception {
        FilesystemRepository repo = new FilesystemRepository(dir);
        assertEquals(5, repo.putIfAbsent("c/x", new java.io.ByteArrayInputStream(bytes("first"))));
        java.io.ByteArrayInputStream second = new java.io.ByteArrayInputStream(bytes("second"));
        assertEquals(-1, repo.putIfAbsent("c/x", second));
        assertEquals(6, second.available());
        assertArrayEquals(bytes("first"), repo.get("c/x").orElseThrow());
    }

    @Test
    void aStreamThatFailsStoresNothing() throws Exception {
        FilesystemRepository repo = new FilesystemRepository(dir);
        java.io.InputStream broken = new java.io.SequenceInputStream(new java.io.ByteArrayInputStream(sample(100_000)),
                new java.io.InputStream() {
                    @Override
                    public int read() throws java.io.IOException {
                        throw new java.io.IOException("pg_basebackup died");
                    }
                });
        assertThrows(java.io.IOException.class, () -> repo.putIfAbsent("c/base/b/base.tar.zst", broken));
        assertTrue(repo.open("c/base/b/base.tar.zst").isEmpty());
        assertEquals(java.util.List.of(), repo.list("c/"));
        try (var files = Files.list(dir.resolve("c/base/b"))) {
            assertEquals(0, files.count());
        }
    }

    @Test
    void aCorruptedObjectIsDetectedAtTheEndOfItsStream() throws Exception {
        FilesystemRepository repo = new FilesystemRepository(dir);
        byte[] payload = sample(200_000);
        repo.putIfAbsent("c/base/b/base.tar.zst", new java.io.ByteArrayInputStream(payload));
        Path file = dir.resolve("c/base/b/base.tar.zst");
        byte[] raw = Files.readAllBytes(file);
        raw[raw.length - 100_000] ^= 0x40;
        Files.write(file, raw);
        try (java.io.InputStream in = repo.open("c/base/b/base.tar.zst").orElseThrow()) {
            // the bytes before the damage come out as stored: the check can only happen at the end
            assertArrayEquals(java.util.Arrays.copyOf(payload, 1000), in.readNBytes(1000));
            ChecksumMismatchException e = assertThrows(ChecksumMismatchException.class, in::readAllBytes);
            assertTrue(e.getMessage().contains("c/base/b/base.tar.zst"), e.getMessage());
        }
        // a skip reads what it skips, so skipping to the end is no way around the check
        try (java.io.InputStream in = repo.open("c/base/b/base.tar.zst").orElseThrow()) {
            assertThrows(ChecksumMismatchException.class, () -> {
                in.skip(Long.MAX_VALUE);
                in.read();
            });
        }
        Files.write(file, bytes("pgha-object sha256=short\n"));
        assertThrows(ChecksumMismatchException.class, () -> repo.open("c/base/b/base.tar.zst"));
    }
}
