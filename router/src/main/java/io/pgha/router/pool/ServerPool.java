package io.pgha.router.pool;

import io.vertx.core.AsyncResult;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;

import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.function.Supplier;

/**
 * The server connections of one {@link PoolKey}: at most {@code maxSize} of them, idle ones
 * reused last-in first-out, and a FIFO queue of clients waiting for one, each with a timeout.
 * Single-threaded: every method runs on the router's event loop.
 */
public final class ServerPool implements ServerConnection.Listener {
    /** Opens a new server connection for this pool. */
    public interface Opener {
        Future<ServerConnection> open(PoolKey key);
    }

    private record Waiter(Handler<AsyncResult<ServerConnection>> handler, long timer, long since) {
    }

    private final Vertx vertx;
    private final PoolKey key;
    private int maxSize;
    private final long waitTimeoutMs;
    private final Opener opener;
    private final Supplier<Long> now;
    private final ArrayDeque<ServerConnection> idle = new ArrayDeque<>();
    private final ArrayDeque<Waiter> waiters = new ArrayDeque<>();
    private final PoolStats stats;
    private int total;
    private int opening;
    /** Time clients of this pool spent waiting for a connection, for the admin console's SHOW STATS. */
    private long waitedNanos;

    ServerPool(Vertx vertx, PoolKey key, int maxSize, long waitTimeoutMs, Opener opener, PoolStats stats) {
        this.vertx = vertx;
        this.key = key;
        this.maxSize = maxSize;
        this.waitTimeoutMs = waitTimeoutMs;
        this.opener = opener;
        this.stats = stats;
        this.now = System::nanoTime;
    }

    public PoolKey key() {
        return key;
    }

    /** Lends a connection: an idle one, a new one, or the next one released, whichever comes first. */
    public void acquire(Handler<AsyncResult<ServerConnection>> handler) {
        ServerConnection conn = pollIdle();
        if (conn != null) {
            acquired(0);
            handler.handle(Future.succeededFuture(conn));
            return;
        }
        if (total < maxSize) {
            openFor(handler, now.get());
            return;
        }
        long since = now.get();
        Waiter[] self = new Waiter[1];
        long timer = vertx.setTimer(waitTimeoutMs, t -> {
            if (waiters.remove(self[0])) {
                stats.waitTimeout();
                handler.handle(Future.failedFuture(new PoolTimeoutException("no server connection for " + key + " became free within " + waitTimeoutMs + " ms")));
            }
        });
        self[0] = new Waiter(handler, timer, since);
        waiters.add(self[0]);
    }

    private void acquired(long waited) {
        stats.acquired(waited);
        waitedNanos += Math.max(0, waited);
    }

    private ServerConnection pollIdle() {
        while (!idle.isEmpty()) {
            ServerConnection conn = idle.pollLast();
            if (!conn.isClosed()) {
                conn.listener(null);
                return conn;
            }
            total--;
        }
        return null;
    }

    private void openFor(Handler<AsyncResult<ServerConnection>> handler, long since) {
        total++;
        opening++;
        opener.open(key).onComplete(ar -> {
            opening--;
            if (ar.failed()) {
                total--;
                stats.connectFailed();
                handler.handle(Future.failedFuture(ar.cause()));
                // a waiter behind us may still get a connection released by someone else
                return;
            }
            stats.opened();
            acquired(now.get() - since);
            handler.handle(Future.succeededFuture(ar.result()));
        });
    }

    /**
     * A new maximum size. Growing serves waiting clients at once with new connections; shrinking
     * closes idle connections beyond the size now and lent ones as they come back, so no client
     * loses the connection it holds.
     */
    void resize(int size) {
        maxSize = size;
        while (total > maxSize && !idle.isEmpty()) {
            retire(idle.pollFirst());
        }
        while (total < maxSize && !waiters.isEmpty()) {
            Waiter w = waiters.poll();
            vertx.cancelTimer(w.timer);
            openFor(w.handler, w.since);
        }
    }

    public int maxSize() {
        return maxSize;
    }

    /** Takes a connection back: hands it to the first waiter, or keeps it idle, or closes it if the pool shrank. */
    public void release(ServerConnection conn) {
        if (conn.cancelling()) {
            // held back until the cancel meant for the client that gave it back has been delivered
            conn.listener(null);
            conn.afterCancels(() -> release(conn));
            return;
        }
        if (conn.isClosed()) {
            closed(conn);
            return;
        }
        if (total > maxSize) {
            retire(conn);
            return;
        }
        Waiter w = waiters.poll();
        if (w != null) {
            vertx.cancelTimer(w.timer);
            acquired(now.get() - w.since);
            conn.listener(null);
            w.handler.handle(Future.succeededFuture(conn));
            return;
        }
        conn.markIdle();
        conn.listener(this);
        idle.addLast(conn);
    }

    /** A lent connection died or was closed: its slot is free again, unless the pool shrank below it. */
    public void closed(ServerConnection conn) {
        total--;
        idle.remove(conn);
        if (total >= maxSize) {
            return;
        }
        Waiter w = waiters.poll();
        if (w != null) {
            vertx.cancelTimer(w.timer);
            openFor(w.handler, w.since);
        }
    }

    /** Closes a connection the pool no longer has room for. */
    private void retire(ServerConnection conn) {
        total--;
        conn.listener(null);
        conn.close();
    }

    /** Closes connections idle for longer than {@code idleNanos}. */
    void closeIdle(long idleNanos) {
        long t = now.get();
        for (Iterator<ServerConnection> it = idle.iterator(); it.hasNext(); ) {
            ServerConnection c = it.next();
            if (t - c.idleSince() > idleNanos || c.isClosed()) {
                it.remove();
                retire(c);
            }
        }
    }

    /** Fails every client waiting for a connection of this pool with {@code cause}. */
    void failWaiters(Throwable cause) {
        for (Waiter w; (w = waiters.poll()) != null; ) {
            vertx.cancelTimer(w.timer);
            w.handler.handle(Future.failedFuture(cause));
        }
    }

    /** Closes every idle connection (at shutdown). */
    void closeAllIdle() {
        closeIdle(-1);
    }

    public int total() {
        return total;
    }

    public int idleCount() {
        return idle.size();
    }

    public int waiting() {
        return waiters.size();
    }

    public int active() {
        return total - idle.size() - opening;
    }

    /** Connections still logging in. */
    public int opening() {
        return opening;
    }

    /** Total time clients waited for a connection of this pool (opening one counts as waiting). */
    public long waitedNanos() {
        return waitedNanos;
    }

    /** How long the longest-waiting client has waited so far; 0 when none waits. */
    public long maxWaitNanos() {
        Waiter first = waiters.peek();
        return first == null ? 0 : Math.max(0, now.get() - first.since);
    }

    // ---- an idle connection's messages: notices and parameter changes are dropped; errors mean it is going away

    @Override
    public void onServerMessage(ServerConnection server, byte type, Buffer message) {
        if (type == io.pgha.router.protocol.PgProtocol.Backend.ERROR_RESPONSE) {
            idle.remove(server);
            retire(server);
        }
    }

    @Override
    public void onServerMessagePart(ServerConnection server, byte type, Buffer part, boolean first, boolean last) {
        if (last) {
            idle.remove(server);
            retire(server);
        }
    }

    @Override
    public void onServerReadComplete(ServerConnection server) {
    }

    @Override
    public void onServerClosed(ServerConnection server) {
        if (idle.remove(server)) {
            total--;
        }
    }
}
