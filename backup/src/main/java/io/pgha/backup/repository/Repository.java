package io.pgha.backup.repository;

import java.io.IOException;
import java.util.List;
import java.util.Optional;

/**
 * Object storage for backups and WAL, keyed by '/'-separated names (see RepositoryLayout). Objects
 * are create-only, and each carries a SHA-256 checksum of its bytes that every read checks. A
 * filesystem directory implements it now; an S3 bucket (a completed PUT with If-None-Match) can follow.
 */
public interface Repository {
    /**
     * Stores {@code bytes} under {@code key} durably, unless an object is already there.
     *
     * @return false, storing nothing, when the key already holds an object
     */
    boolean putIfAbsent(String key, byte[] bytes) throws IOException;

    /** The object's bytes, checked against its checksum; empty when there is none. */
    Optional<byte[]> get(String key) throws IOException, ChecksumMismatchException;

    /** Keys that start with {@code prefix}, in no particular order. */
    List<String> list(String prefix) throws IOException;
}
