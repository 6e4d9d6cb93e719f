package io.pgha.e2e;

import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A writer through the router, for tests that must lose no acknowledged commit: it inserts 1, 2,
 * 3, ... into table {@code acked}, one autocommit statement each, and notes every id whose commit
 * returned. After an error (the transaction met a failover or a restart, so it was not
 * acknowledged and does not count) it connects again; the router leads it to the new primary.
 */
final class AcknowledgedWriter implements AutoCloseable {
    private final Launcher pgha;
    private final ConcurrentLinkedQueue<Long> acknowledged = new ConcurrentLinkedQueue<>();
    private final AtomicBoolean writing = new AtomicBoolean(true);
    private final AtomicLong lastAck = new AtomicLong();
    private final Thread thread;

    /** What the current primary holds of the commits acknowledged so far. */
    record Check(int acknowledged, long lost) {
    }

    private AcknowledgedWriter(Launcher pgha) {
        this.pgha = pgha;
        this.thread = new Thread(this::write, "acknowledged-writer");
    }

    /** Creates the table on the primary and starts writing. */
    static AcknowledgedWriter start(Launcher pgha) throws Exception {
        try (Connection c = Launcher.connect(pgha.uri("--primary")); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE acked (id bigint PRIMARY KEY)");
        }
        AcknowledgedWriter w = new AcknowledgedWriter(pgha);
        w.thread.start();
        return w;
    }

    private void write() {
        long next = 1;
        while (writing.get()) {
            try (Connection c = Launcher.connect(pgha.uri("--router"));
                 PreparedStatement insert = c.prepareStatement("INSERT INTO acked VALUES (?)")) {
                while (writing.get()) {
                    insert.setLong(1, next);
                    insert.executeUpdate();
                    acknowledged.add(next);
                    lastAck.set(System.nanoTime());
                    next++;
                }
            } catch (SQLException | AssertionError e) {
                next++;
            }
        }
    }

    /** How many commits have been acknowledged. */
    int count() {
        return acknowledged.size();
    }

    /** {@link System#nanoTime()} of the latest acknowledgement; 0 before the first. */
    long lastAcknowledgedAt() {
        return lastAck.get();
    }

    /** The highest id acknowledged. */
    long newest() {
        return acknowledged.stream().mapToLong(Long::longValue).max().orElseThrow();
    }

    /** Counts the ids acknowledged so far that the current primary does not hold. */
    Check check() throws Exception {
        String primary = pgha.status().get("currentPrimary").asText();
        List<Long> acked = new ArrayList<>(acknowledged);
        try (Connection c = Launcher.connect(pgha.uri("--instance", primary));
             PreparedStatement missing = c.prepareStatement("SELECT count(*) FROM unnest(?::bigint[]) AS a(id) "
                     + "WHERE NOT EXISTS (SELECT 1 FROM acked WHERE acked.id = a.id)")) {
            Array ids = c.createArrayOf("bigint", acked.toArray());
            missing.setArray(1, ids);
            try (ResultSet rs = missing.executeQuery()) {
                rs.next();
                return new Check(acked.size(), rs.getLong(1));
            }
        }
    }

    @Override
    public void close() throws InterruptedException {
        writing.set(false);
        thread.join(30_000);
    }
}
