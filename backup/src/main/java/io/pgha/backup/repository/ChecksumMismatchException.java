package io.pgha.backup.repository;

/**
 * A stored object whose bytes no longer match the checksum stored with them. An IOException, so
 * that a stream of the object can throw it when it reaches the end.
 */
public class ChecksumMismatchException extends java.io.IOException {
    public ChecksumMismatchException(String key) {
        super("checksum mismatch in repository object " + key + ": it is corrupt");
    }
}
