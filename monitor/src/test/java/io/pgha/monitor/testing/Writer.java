package io.pgha.monitor.testing;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Inserts sequential ids into {@code acked} on one instance, one autocommit statement each, and
 * records every id whose commit was acknowledged (a commit that came back with a warning counts
 * too). Errors make it reconnect and go on until stopped.
 */
public final class Writer implements AutoCloseable {
    private final LocalCluster cluster;
    private final String instance;
    private final List<Long> acknowledged = new CopyOnWriteArrayList<>();
    private final List<Long> acknowledgedAtNanos = new CopyOnWriteArrayList<>();
    private final Thread thread;
    private volatile boolean stopped;

    private Writer(LocalCluster cluster, String instance) {
        this.cluster = cluster;
        this.instance = instance;
        this.thread = new Thread(this::run, "writer-" + instance);
        thread.setDaemon(true);
    }

    public static Writer start(LocalCluster cluster, String instance) throws SQLException {
        try (Connection c = cluster.connect(instance); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE IF NOT EXISTS acked (id bigint PRIMARY KEY)");
        }
        Writer w = new Writer(cluster, instance);
        w.thread.start();
        return w;
    }

    private void run() {
        long next = 1;
        while (!stopped) {
            try (Connection c = cluster.connect(instance);
                 PreparedStatement ps = c.prepareStatement("INSERT INTO acked VALUES (?)")) {
                while (!stopped) {
                    long id = next++;
                    ps.setLong(1, id);
                    ps.executeUpdate();
                    acknowledged.add(id);
                    acknowledgedAtNanos.add(System.nanoTime());
                }
            } catch (SQLException e) {
                if (!stopped) {
                    try {
                        Thread.sleep(20);
                    } catch (InterruptedException ie) {
                        return;
                    }
                }
            }
        }
    }

    public List<Long> acknowledged() {
        return Collections.unmodifiableList(acknowledged);
    }

    /** System.nanoTime() of the last acknowledged commit, or 0. */
    public long lastAcknowledgedAtNanos() {
        return acknowledgedAtNanos.isEmpty() ? 0 : acknowledgedAtNanos.get(acknowledgedAtNanos.size() - 1);
    }

    /** Acknowledged ids that {@code other} does not have. */
    public Set<Long> missingOn(String other) throws SQLException {
        Set<Long> present = new HashSet<>();
        try (Connection c = cluster.connect(other); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT id FROM acked")) {
            while (rs.next()) {
                present.add(rs.getLong(1));
            }
        }
        Set<Long> missing = new HashSet<>(acknowledged);
        missing.removeAll(present);
        return missing;
    }

    public void stop() {
        stopped = true;
        thread.interrupt();
        try {
            thread.join(40_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        stop();
    }
}
