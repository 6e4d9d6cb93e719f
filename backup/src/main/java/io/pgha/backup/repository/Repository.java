package io.pgha.backup.repository;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.List;
import java.util.Optional;

/**
 * Object storage for backups and WAL, keyed by '/'-separated names (see RepositoryLayout). Objects
 * are create-only, and each carries a SHA-256 checksum of its bytes that every read checks. A
 * filesystem directory and an S3 bucket implement it; each implements the streaming pair, and the
 * whole-object calls (small objects: WAL files, backup.json) are built on them.
 */
public interface Repository {
    /**
     * Stores {@code bytes} under {@code key} durably, unless an object is already there.
     *
     * @return false, storing nothing, when the key already holds an object
     */
    default boolean putIfAbsent(String key, byte[] bytes) throws IOException {
        return putIfAbsent(key, new ByteArrayInputStream(bytes)) >= 0;
    }

    /**
     * Streams {@code in} into a new object under {@code key}, computing its checksum on the way; the
     * object is durable once this returns.
     *
     * @return the number of bytes stored, or -1, storing nothing, when the key already holds an object
     */
    long putIfAbsent(String key, InputStream in) throws IOException;

    /**
     * The object as a stream, empty when there is none. Reading to its end throws
     * ChecksumMismatchException when its bytes do not match the checksum stored with them.
     */
    Optional<InputStream> open(String key) throws IOException;

    /** The object's bytes, checked against its checksum; empty when there is none. */
    default Optional<byte[]> get(String key) throws IOException {
        Optional<InputStream> in = open(key);
        if (in.isEmpty()) {
            return Optional.empty();
        }
        try (InputStream stream = in.get()) {
            return Optional.of(stream.readAllBytes());
        }
    }

    /** Whether an object is stored under {@code key}, without reading it. */
    boolean exists(String key) throws IOException;

    /** Keys that start with {@code prefix}, in no particular order. */
    List<String> list(String prefix) throws IOException;

    /**
     * Removes the object under {@code key}; nothing when there is none. Only retention deletes
     * (objects are otherwise create-only), and only what no kept backup and no lease needs.
     */
    void delete(String key) throws IOException;
}
