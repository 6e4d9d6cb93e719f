package io.pgha.e2e.faults;

import io.pgha.e2e.Launcher;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;

/**
 * Clients that write all the time: one through the router and one straight to every instance.
 * Each logs every acknowledged write ({@link Ack}) with what the server said about itself inside
 * the transaction: its port (so the instance, even behind the router), its timeline and its WAL
 * insert position. A writer that meets an error (a standby refuses, a dead or frozen server does
 * not answer) connects again after a short pause; its unacknowledged write does not count.
 */
final class Writers implements AutoCloseable {
    static final String TABLE = "fault_acks";
    static final String ROUTER = "router";
    /** A frozen or cut-off server costs a writer at most this long per attempt. */
    private static final int CONNECT_TIMEOUT_S = 1;
    private static final int SOCKET_TIMEOUT_S = 3;
    private static final long RETRY_PAUSE_NANOS = TimeUnit.MILLISECONDS.toNanos(50);
    /** Inside the transaction, after the INSERT: the server's port, timeline and WAL insert position. */
    private static final String WHERE_AM_I = "SELECT inet_server_port(), "
            + "('x' || substr(pg_walfile_name(pg_current_wal_insert_lsn()), 1, 8))::bit(32)::int, "
            + "pg_current_wal_insert_lsn() - '0/0'::pg_lsn";

    private final ConcurrentLinkedQueue<Ack> acks = new ConcurrentLinkedQueue<>();
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final List<Thread> threads = new ArrayList<>();
    private final Map<Integer, String> instanceByPort;

    /** @param targets writer name to the {@code postgresql://} URI it writes to */
    Writers(Map<String, String> targets, Map<Integer, String> instanceByPort) {
        this.instanceByPort = instanceByPort;
        targets.forEach((name, uri) -> {
            Thread t = new Thread(() -> write(name, uri), "writer-" + name);
            t.setDaemon(true);
            threads.add(t);
        });
        threads.forEach(Thread::start);
    }

    static void createTable(Connection primary) throws SQLException {
        try (Statement s = primary.createStatement()) {
            s.execute("CREATE TABLE " + TABLE + " (writer text, id bigint, PRIMARY KEY (writer, id))");
        }
    }

    List<Ack> acks() {
        return List.copyOf(acks);
    }

    private void write(String writer, String uri) {
        Properties p = Launcher.credentials(uri);
        p.setProperty("connectTimeout", Integer.toString(CONNECT_TIMEOUT_S));
        p.setProperty("socketTimeout", Integer.toString(SOCKET_TIMEOUT_S));
        String url = Launcher.jdbcUrl(uri);
        long next = 1;
        while (running.get()) {
            try (Connection c = DriverManager.getConnection(url, p);
                 PreparedStatement insert = c.prepareStatement("INSERT INTO " + TABLE + " VALUES (?, ?)");
                 PreparedStatement where = c.prepareStatement(WHERE_AM_I)) {
                c.setAutoCommit(false);
                while (running.get()) {
                    long id = next++;
                    insert.setString(1, writer);
                    insert.setLong(2, id);
                    insert.executeUpdate();
                    int port;
                    int timeline;
                    long lsn;
                    try (ResultSet rs = where.executeQuery()) {
                        rs.next();
                        port = rs.getInt(1);
                        timeline = rs.getInt(2);
                        lsn = rs.getLong(3);
                    }
                    c.commit();
                    acks.add(new Ack(writer, id, instanceByPort.getOrDefault(port, "port " + port), timeline, lsn, System.nanoTime()));
                }
            } catch (SQLException e) {
                // not acknowledged, so it does not count; its id is never reused
                LockSupport.parkNanos(RETRY_PAUSE_NANOS);
            }
        }
    }

    @Override
    public void close() throws InterruptedException {
        running.set(false);
        for (Thread t : threads) {
            t.join(TimeUnit.SECONDS.toMillis(CONNECT_TIMEOUT_S + SOCKET_TIMEOUT_S + 5));
        }
    }
}
