package io.pgha.router.pool;

/** A client waited longer than the pool's wait timeout for a server connection. */
public final class PoolTimeoutException extends RuntimeException {
    public PoolTimeoutException(String message) {
        super(message, null, false, false);
    }
}
