package io.pgha.local.store;

/** A write based on a resource version that is no longer current: read again and retry. */
public class ConflictException extends RuntimeException {
    public ConflictException(String message) {
        super(message);
    }
}
