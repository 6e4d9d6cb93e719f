package io.pgha.router.topology;

import io.pgha.api.RouterAuth;
import io.pgha.api.WalSql;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import org.jboss.logging.Logger;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * What the router learns about its servers by itself: how far each standby has replayed and on
 * which timeline (one dedicated connection per standby, polled every {@code interval} off the
 * per-message path, and on demand), the primary's timeline and WAL position (polled on the same
 * cadence over one dedicated primary connection), and from both each standby's health and lag
 * ({@link StandbyHealth}), republished after every poll round. Positions are compared only
 * within the primary's timeline. Read-your-writes also asks that primary connection for a position at
 * least as late as every commit acknowledged (shared by all commits that arrive while a question
 * is in flight). Connects as the lookup role. Event-loop only.
 */
public final class ReplayTracker {
    private static final Logger LOG = Logger.getLogger(ReplayTracker.class);
    /** A standby the tracker has not polled yet: no reads until its first answer. */
    static final StandbyState NOT_POLLED = new StandbyState(false, 0);
    /**
     * A standby's timeline as its WAL receiver received it (NULL without one) and its replay
     * position, as bytes since 0/0 (NULL on a server that is not in recovery).
     */
    static final String REPLAY_SQL = "SELECT " + RouterAuth.RECEIVED_TIMELINE + ", (pg_last_wal_replay_lsn() - '0/0')::int8";
    /** The primary's timeline and insert position: the position covers every record inserted, so every commit acknowledged. */
    static final String INSERT_SQL = "SELECT " + WalSql.primaryTimeline("pg_current_wal_insert_lsn()")
            + ", (pg_current_wal_insert_lsn() - '0/0')::int8";
    /** WAL page and segment sizes assumed for {@link #recordEnd(long)} (PostgreSQL's defaults). */
    static final long WAL_PAGE = 8192;
    static final long WAL_SEGMENT = 16L * 1024 * 1024;
    static final long SHORT_PAGE_HEADER = 24;
    static final long LONG_PAGE_HEADER = 40;

    private final Vertx vertx;
    private final Supplier<Topology> topology;
    private final Supplier<LookupCredentials> credentials;
    private final String database;
    private final Map<ServerAddress, LsnProbe> standbys = new HashMap<>();
    private ServerAddress primaryAddress;
    private LsnProbe primary;
    /**
     * The newest timeline any primary answered with since the router started. Timelines only
     * grow, so a primary that stopped answering does not make an older one acceptable again.
     */
    private int primaryTimeline = StandbyHealth.UNKNOWN_TIMELINE;
    private long timer = -1;
    private final Consumer<Map<ServerAddress, StandbyState>> published;
    private Map<ServerAddress, StandbyState> states = Map.of();

    /** {@code published} gets the standbys' states whenever they change, on the event loop. */
    public ReplayTracker(Vertx vertx, Supplier<Topology> topology, Supplier<LookupCredentials> credentials, String database,
                         Consumer<Map<ServerAddress, StandbyState>> published) {
        this.vertx = vertx;
        this.topology = topology;
        this.credentials = credentials;
        this.database = database;
        this.published = published;
    }

    /** Starts polling the primary and the standbys; call on the event loop that uses the tracker. */
    public void start(Duration interval) {
        timer = vertx.setPeriodic(Math.max(10, interval.toMillis()), t -> poll());
        poll();
    }

    public void close() {
        if (timer >= 0) {
            vertx.cancelTimer(timer);
        }
        standbys.values().forEach(LsnProbe::close);
        standbys.clear();
        if (primary != null) {
            primary.close();
            primary = null;
        }
    }

    /**
     * How far {@code standby} has replayed, as last seen; -1 if unknown or not on the primary's
     * timeline (a position on another timeline says nothing about the primary's commits).
     */
    public long replayed(ServerAddress standby) {
        LsnProbe p = standbys.get(standby);
        return p == null ? LsnProbe.UNKNOWN : StandbyHealth.comparable(p.last(), p.timeline(), primaryTimeline());
    }

    /** The newest primary timeline seen, updated with the primary's latest answer. */
    private int primaryTimeline() {
        if (primary != null) {
            primaryTimeline = Math.max(primaryTimeline, primary.timeline());
        }
        return primaryTimeline;
    }

    /** {@code standby}'s health and lag as of the last poll round; unhealthy if not polled yet. */
    public StandbyState state(ServerAddress standby) {
        return states.getOrDefault(standby, NOT_POLLED);
    }

    /** Whether any current standby is known to have replayed {@code lsn}. */
    public boolean anyReplayed(long lsn) {
        for (ServerAddress s : topology.get().standbys()) {
            if (replayed(s) >= lsn) {
                return true;
            }
        }
        return false;
    }

    /**
     * A WAL position at least as late as the end of every commit the primary acknowledged before
     * this call: asked on the dedicated primary connection.
     */
    public Future<Long> commitPosition() {
        return primaryProbe(topology.get().primary()).ask().map(ReplayTracker::recordEnd);
    }

    /** The probe of the current primary; a new one when the primary changed. */
    private LsnProbe primaryProbe(ServerAddress p) {
        if (primary == null || !p.equals(primaryAddress)) {
            if (primary != null) {
                primary.close();
            }
            primaryAddress = p;
            primary = new LsnProbe(vertx, INSERT_SQL, () -> LookupCredentials.connectOptions(credentials, p, database));
        }
        return primary;
    }

    /** Asks every standby for its replay position now; completes when all have answered or failed. */
    public Future<Void> refresh() {
        List<Future<Long>> answers = new ArrayList<>();
        for (ServerAddress s : topology.get().standbys()) {
            answers.add(probe(s).ask().otherwise(LsnProbe.UNKNOWN));
        }
        return Future.join(new ArrayList<>(answers)).mapEmpty();
    }

    /**
     * The insert position just after a page header is the end of the record before it, which a
     * standby reports as its replay position: step back over the header so that an idle primary
     * does not keep a client off the standbys.
     */
    static long recordEnd(long insert) {
        if (insert % WAL_SEGMENT == LONG_PAGE_HEADER) {
            return insert - LONG_PAGE_HEADER;
        }
        if (insert % WAL_PAGE == SHORT_PAGE_HEADER) {
            return insert - SHORT_PAGE_HEADER;
        }
        return insert;
    }

    /** One poll round: judge every standby by what the last rounds saw, then ask everyone again. */
    private void poll() {
        Topology t = topology.get();
        List<ServerAddress> current = t.standbys();
        LsnProbe primaryNow = primaryProbe(t.primary());
        publish(current, primaryNow.last(), primaryTimeline());
        primaryNow.poll();
        for (ServerAddress s : current) {
            probe(s).poll();
        }
        if (standbys.size() > current.size() || !current.containsAll(standbys.keySet())) {
            var keep = new HashSet<>(current);
            standbys.entrySet().removeIf(e -> {
                if (!keep.contains(e.getKey())) {
                    e.getValue().close();
                    return true;
                }
                return false;
            });
        }
    }

    private void publish(List<ServerAddress> current, long primaryPosition, int timeline) {
        long now = System.nanoTime();
        Map<ServerAddress, StandbyState> next = new HashMap<>();
        for (ServerAddress s : current) {
            LsnProbe p = standbys.get(s);
            if (p != null) {
                next.put(s, StandbyHealth.state(p.sample(), primaryPosition, timeline, now, StandbyHealth.ANSWER_TIMEOUT));
            }
        }
        if (next.equals(states)) {
            return;
        }
        next.forEach((s, state) -> {
            StandbyState before = states.get(s);
            if (before != null && before.healthy() != state.healthy()) {
                if (state.healthy()) {
                    LOG.infof("standby %s answers: it can take reads", s);
                } else {
                    LOG.warnf("standby %s is unhealthy (not answering, not in recovery, or not on primary timeline %d): no reads",
                            s, timeline);
                }
            }
        });
        states = Map.copyOf(next);
        published.accept(states);
    }

    private LsnProbe probe(ServerAddress s) {
        return standbys.computeIfAbsent(Objects.requireNonNull(s),
                a -> new LsnProbe(vertx, REPLAY_SQL, () -> LookupCredentials.connectOptions(credentials, a, database)));
    }
}
