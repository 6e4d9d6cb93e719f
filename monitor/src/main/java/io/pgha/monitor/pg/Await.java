package io.pgha.monitor.pg;

import io.vertx.core.Future;

import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/** Blocks a monitor thread (never an event loop) on a Vert.x future. */
public final class Await {
    /**
     * Beyond a future's own deadline, how long to wait for it to report that it ran out: well
     * inside the margin the monitor's lease keeps before another monitor may take it.
     */
    public static final Duration SLACK = Duration.ofMillis(300);

    private Await() {
    }

    public static <T> T result(Future<T> future, Duration timeout) throws FailedException {
        try {
            return future.toCompletionStage().toCompletableFuture().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            throw new FailedException(InstanceConnection.message(e.getCause()), e.getCause());
        } catch (TimeoutException e) {
            throw new FailedException("no answer within " + timeout.toMillis() + " ms", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new FailedException("interrupted", e);
        }
    }

    /** An operation on an instance that did not succeed; the message says why in one line. */
    public static final class FailedException extends Exception {
        public FailedException(String message, Throwable cause) {
            super(message, cause);
        }
    }
}
