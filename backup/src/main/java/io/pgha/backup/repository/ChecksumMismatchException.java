package io.pgha.backup.repository;

import java.io.IOException;

/** A stored object whose bytes no longer match the checksum stored with them. */
public class ChecksumMismatchException extends IOException {
    public ChecksumMismatchException(String key) {
        super("checksum mismatch in repository object " + key + ": it is corrupt");
    }
}
