package io.pgha.local;

import java.time.Duration;

/** The pause between two looks of a wait that polls; an interrupt ends the wait, saying which. */
public final class Pauses {
    private Pauses() {
    }

    /** Sleeps {@code pause}; interrupted, it keeps the thread's interrupt and throws, naming {@code waitingFor}. */
    public static void pause(Duration pause, String waitingFor) {
        try {
            Thread.sleep(pause.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new PghaException("interrupted while " + waitingFor, e);
        }
    }
}
