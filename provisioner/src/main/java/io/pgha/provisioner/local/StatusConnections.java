package io.pgha.provisioner.local;

import java.time.Duration;
import java.util.function.Function;
import java.util.function.LongSupplier;

/**
 * The superuser connections the status answer looks through, kept from one call to the next and
 * closed once no call came for {@link #IDLE}. A login per instance per call cost about 60 ms of CPU
 * per instance on a 2-core machine (a new backend, SCRAM on both sides), and whoever waits for a
 * change (a script, the end-to-end tests) asks for the status several times a second; an occasional
 * {@code pgha status} still leaves no session behind for long. Calls take turns: a
 * {@link KeptConnections} is for one thread at a time.
 */
final class StatusConnections implements AutoCloseable {
    static final Duration IDLE = Duration.ofSeconds(10);

    /**
     * As long as a fresh login may take (Sql's login timeout): a kept session on an instance that
     * froze would otherwise hold the answer for the whole socket timeout.
     */
    static final Duration READ_TIMEOUT = Duration.ofSeconds(3);

    private final KeptConnections kept = new KeptConnections(READ_TIMEOUT);
    private final LongSupplier nanoTime;
    private long lastUse;
    private boolean open;

    StatusConnections() {
        this(System::nanoTime);
    }

    StatusConnections(LongSupplier nanoTime) {
        this.nanoTime = nanoTime;
    }

    /** Runs {@code look} on the kept connections. */
    synchronized <T> T use(Function<KeptConnections, T> look) {
        open = true;
        try {
            return look.apply(kept);
        } finally {
            lastUse = nanoTime.getAsLong();
        }
    }

    /** Closes the connections if none was used for {@link #IDLE}; true when it did. */
    synchronized boolean closeIfIdle() {
        if (!open || nanoTime.getAsLong() - lastUse < IDLE.toNanos()) {
            return false;
        }
        close();
        return true;
    }

    @Override
    public synchronized void close() {
        kept.close();
        open = false;
    }
}
