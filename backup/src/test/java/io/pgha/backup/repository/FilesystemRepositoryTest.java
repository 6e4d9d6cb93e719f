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
        // the postgres OS user and root must both read what either wrote
        assertEquals("rw-r--r--", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("repo/c/wal/00000001/a"))));
        assertEquals("rwxr-xr-x", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("repo/c/wal/00000001"))));
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
}
