package io.pgha.router.topology;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.PgConnection;
import io.vertx.sqlclient.Row;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * One dedicated connection to one server that asks it for a timeline and a WAL position on it
 * (an {@code int4} and an {@code int8} from {@code sql}), one query at a time. Callers of {@link #ask()} get the answer of a query sent
 * after they asked; everyone who asks while a query is in flight shares the next one, so a burst
 * of commits costs one round trip. Event-loop only.
 */
final class LsnProbe {
    /** No position known (not connected, not answered yet, or the server returned NULL). */
    static final long UNKNOWN = StandbyHealth.UNKNOWN;
    /**
     * A query unanswered this long is taken to be on a dead connection (a partition that never
     * reset it): the connection is closed, which fails the query, and the next poll reconnects.
     * As long as the connect timeout, so a hung server is not hammered with new connections.
     */
    static final long ABANDON_AFTER_NANOS = java.util.concurrent.TimeUnit.SECONDS.toNanos(5);

    private final Vertx vertx;
    private final String sql;
    private final Supplier<Future<PgConnectOptions>> options;
    private PgConnection connection;
    private boolean busy;
    private boolean closed;
    private List<Promise<Long>> next = new ArrayList<>();
    private long last = UNKNOWN;
    private int lastTimeline = StandbyHealth.UNKNOWN_TIMELINE;
    /** When the query in flight was sent ({@link System#nanoTime()}). */
    private long sentAt;

    LsnProbe(Vertx vertx, String sql, Supplier<Future<PgConnectOptions>> options) {
        this.vertx = vertx;
        this.sql = sql;
        this.options = options;
    }

    /** The position of the last answer, or {@link #UNKNOWN}. */
    long last() {
        return last;
    }

    /** The timeline of the last answer, or {@link StandbyHealth#UNKNOWN_TIMELINE}. */
    int timeline() {
        return lastTimeline;
    }

    /** The position in the answer of a query sent after this call. */
    Future<Long> ask() {
        Promise<Long> p = Promise.promise();
        next.add(p);
        if (!busy) {
            run();
        }
        return p.future();
    }

    /** What polling has seen so far, for {@link StandbyHealth}. */
    StandbyHealth.Sample sample() {
        return new StandbyHealth.Sample(last, lastTimeline, busy ? sentAt : StandbyHealth.Sample.NOT_WAITING);
    }

    /** Sends a query unless one is in flight; gives up on one in flight for too long. */
    void poll() {
        if (!busy) {
            run();
        } else if (connection != null && System.nanoTime() - sentAt > ABANDON_AFTER_NANOS) {
            connection.close();
        }
    }

    void close() {
        closed = true;
        last = UNKNOWN;
        lastTimeline = StandbyHealth.UNKNOWN_TIMELINE;
        if (connection != null) {
            connection.close();
            connection = null;
        }
    }

    private void run() {
        if (closed) {
            List<Promise<Long>> batch = next;
            next = new ArrayList<>();
            batch.forEach(p -> p.tryFail("closed"));
            return;
        }
        busy = true;
        sentAt = System.nanoTime();
        List<Promise<Long>> batch = next;
        next = new ArrayList<>();
        connection().compose(c -> c.query(sql).execute()).onComplete(ar -> {
            busy = false;
            if (ar.succeeded()) {
                Integer timeline = null;
                Long v = null;
                for (Row row : ar.result()) {
                    timeline = row.getInteger(0);
                    v = row.getLong(1);
                }
                last = v == null ? UNKNOWN : v;
                lastTimeline = timeline == null ? StandbyHealth.UNKNOWN_TIMELINE : timeline;
                long answer = last;
                batch.forEach(p -> p.tryComplete(answer));
            } else {
                last = UNKNOWN;
                lastTimeline = StandbyHealth.UNKNOWN_TIMELINE;
                if (connection != null) {
                    connection.close();
                    connection = null;
                }
                batch.forEach(p -> p.tryFail(ar.cause()));
            }
            if (!next.isEmpty()) {
                run();
            }
        });
    }

    private Future<PgConnection> connection() {
        if (connection != null) {
            return Future.succeededFuture(connection);
        }
        return options.get().compose(o -> PgConnection.connect(vertx, o)).map(c -> {
            if (closed) {
                c.close();
                throw new IllegalStateException("closed");
            }
            connection = c;
            c.closeHandler(v -> {
                if (connection == c) {
                    connection = null;
                }
            });
            return c;
        });
    }
}
