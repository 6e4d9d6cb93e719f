package io.pgha.backup.repository;

/** A stored object whose bytes no longer match the checksum stored with them. */
public class ChecksumMismatchException extends Exception {
    public ChecksumMismatchException(String key) {
        super("checksum mismatch in repository object " + key + ": it is corrupt");
    }
}
