package io.pgha.provisioner.local;

import io.pgha.local.LocalSecrets.Credentials;
import io.pgha.local.Sql;

import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Map;

/**
 * One superuser connection per local instance, kept from one look to the next. A reconcile pass
 * every 500 ms that logged in anew to every instance spent most of the idle provisioner's CPU,
 * and the servers', on SCRAM key derivation. Not thread-safe: one per thread that looks.
 */
final class KeptConnections implements AutoCloseable {
    /** Work on a connection. */
    @FunctionalInterface
    interface Work<T> {
        T on(Connection c) throws SQLException;
    }

    private final Map<Integer, Connection> open = new HashMap<>();
    /** How long a read on a connection may wait; null: the socket timeout of {@link Sql#connect}. */
    private final Duration readTimeout;

    KeptConnections() {
        this(null);
    }

    KeptConnections(Duration readTimeout) {
        this.readTimeout = readTimeout;
    }

    /**
     * Runs {@code work} on the kept connection to the instance on {@code port}. A kept connection
     * that fails may be one the server closed since (it restarted, or was stopped and started): it
     * is replaced by a fresh login once, and only a failure on the fresh one counts.
     */
    <T> T with(int port, Credentials superuser, Work<T> work) throws SQLException {
        Connection kept = open.get(port);
        if (kept != null) {
            try {
                return work.on(kept);
            } catch (SQLException e) {
                forget(port);
            }
        }
        Connection fresh = Sql.connect(port, superuser, "postgres");
        open.put(port, fresh);
        try {
            if (readTimeout != null) {
                // the driver sets the socket's timeout and runs nothing on the executor
                fresh.setNetworkTimeout(Runnable::run, (int) readTimeout.toMillis());
            }
            return work.on(fresh);
        } catch (SQLException e) {
            forget(port);
            throw e;
        }
    }

    /** Closes the connection to an instance that is down, so it is not tried first next time. */
    void forget(int port) {
        Connection c = open.remove(port);
        if (c != null) {
            try {
                c.close();
            } catch (SQLException e) {
                // it is being dropped because it no longer works
            }
        }
    }

    @Override
    public void close() {
        new ArrayList<>(open.keySet()).forEach(this::forget);
    }
}
