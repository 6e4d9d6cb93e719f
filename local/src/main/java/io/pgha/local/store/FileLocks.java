package io.pgha.local.store;

import io.pgha.local.PghaException;
import io.pgha.local.StateFiles;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;

/**
 * Exclusive sections guarded by a lock file, across processes (an OS file lock) and across the
 * threads of this process (a JVM lock per path: the OS lock is held per process, and Java refuses
 * a second lock on a file this process already locked).
 */
final class FileLocks {
    private static final ConcurrentHashMap<Path, ReentrantLock> LOCAL = new ConcurrentHashMap<>();

    private FileLocks() {
    }

    static <T> T withLock(Path lockFile, Supplier<T> body) {
        Path key = lockFile.toAbsolutePath().normalize();
        ReentrantLock local = LOCAL.computeIfAbsent(key, k -> new ReentrantLock());
        local.lock();
        try {
            StateFiles.createDirectories(key.getParent(), StateFiles.READABLE_DIR);
            try (FileChannel channel = FileChannel.open(key, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
                 FileLock ignored = channel.lock()) {
                return body.get();
            }
        } catch (IOException e) {
            throw new PghaException("cannot lock " + key + ": " + e.getMessage(), e);
        } finally {
            local.unlock();
        }
    }
}
