package io.pgha.monitor.pg;

import io.pgha.api.WalSql;
import io.pgha.monitor.core.InstanceObservation;
import io.pgha.api.postgres.Lsn;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.SslMode;
import io.vertx.core.net.TrustOptions;
import io.pgha.api.tls.ServerIdentity;
import io.vertx.pgclient.PgConnection;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.Tuple;

import java.time.Clock;
import java.time.Duration;
import java.util.function.BooleanSupplier;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * One instance as the monitor sees it, over the reactive PostgreSQL client: a connection kept
 * open between checks (a killed server closes it at once, which is the fastest signal there is)
 * and dropped on any error or timeout, plus the few statements a failover needs.
 *
 * <p>Nothing here ever cancels a query on the server: a backend may be waiting for synchronous
 * replication, and a cancelled wait would report success for a commit no standby has.
 */
public final class InstanceConnection implements AutoCloseable {
    /** One round trip for the instance's own state. */
    static final String STATE_SQL = "SELECT pg_is_in_recovery() AS in_recovery, "
            + "CASE WHEN pg_is_in_recovery() THEN NULL ELSE pg_current_wal_lsn()::text END AS current_lsn, "
            + "CASE WHEN pg_is_in_recovery() THEN NULL "
            + "ELSE " + WalSql.primaryTimeline("pg_current_wal_lsn()") + " END AS wal_tli, "
            + "pg_last_wal_receive_lsn()::text AS receive_lsn, "
            + "pg_last_wal_replay_lsn()::text AS replay_lsn, "
            + "(SELECT received_tli FROM pg_stat_wal_receiver LIMIT 1) AS receiver_tli, "
            + "(SELECT status FROM pg_stat_wal_receiver LIMIT 1) AS receiver_status, "
            + "(SELECT timeline_id FROM pg_control_checkpoint()) AS checkpoint_tli, "
            + WalSql.HIGHEST_HISTORY_TIMELINE + " AS history_tli, "
            + "extract(epoch FROM clock_timestamp() - pg_last_xact_replay_timestamp())::float8 AS replay_delay, "
            + "extract(epoch FROM clock_timestamp() - (SELECT last_msg_receipt_time FROM pg_stat_wal_receiver LIMIT 1))::float8"
            + " AS receipt_age, "
            + "current_setting('primary_conninfo') AS conninfo, "
            + "current_setting('synchronous_standby_names') AS sync_names, "
            + "(SELECT setting::bigint > 0 FROM pg_settings WHERE name = 'recovery_min_apply_delay') AS apply_delayed";
    /** The primary's view of its standbys, each matched to its slot. */
    static final String REPLICATION_SQL = "SELECT s.slot_name, r.application_name, r.state, r.sync_state, "
            + "r.sent_lsn::text AS sent_lsn, r.flush_lsn::text AS flush_lsn, r.replay_lsn::text AS replay_lsn, "
            + "extract(epoch FROM r.replay_lag)::float8 AS replay_lag "
            + "FROM pg_stat_replication r LEFT JOIN pg_replication_slots s ON s.active_pid = r.pid";
    private static final Duration POLL = Duration.ofMillis(50);
    /**
     * A check in flight this long is given up and its connection dropped: far beyond any
     * failover decision, so it only frees a connection that no answer will ever come back on.
     */
    static final Duration STALLED = Duration.ofSeconds(15);

    private static final org.jboss.logging.Logger LOG = org.jboss.logging.Logger.getLogger(InstanceConnection.class);
    private final Vertx vertx;
    private final String name;
    private final PgConnectOptions options;
    private final Clock clock;
    /** Told when the server closed the connection or it broke (not when this side dropped it). */
    private final Runnable lost;
    private PgConnection connection;
    /** The check in flight, if any. */
    private Future<InstanceObservation> inFlight;
    /** The check in flight that a caller stopped waiting for: its answer goes to {@link #late}. */
    private Future<InstanceObservation> waitedOut;
    /** An answer that came after its caller stopped waiting, for the next call. */
    private InstanceObservation late;
    /** When the last check that got an answer was sent (System.nanoTime()); creation until then. */
    private long lastAnsweredSent = System.nanoTime();

    /**
     * @param trustedCa the CA certificate (PEM) the server's certificate must be signed by, which
     *                  must also name {@code name} (the address is a pod IP no certificate names);
     *                  null: no TLS (local mode, loopback only)
     * @param lost      called (on an event loop) when the server closed the kept connection or it
     *                  broke: a killed server does so at once, long before the next check is due
     */
    public InstanceConnection(Vertx vertx, String name, String host, int port, String user, String password, String trustedCa,
                              Duration connectTimeout, Clock clock, Runnable lost) {
        this.vertx = vertx;
        this.name = name;
        this.clock = clock;
        this.lost = lost;
        this.options = new PgConnectOptions().setHost(host).setPort(port).setUser(user).setPassword(password)
                .setDatabase("postgres").setConnectTimeout((int) connectTimeout.toMillis())
                .setReconnectAttempts(0).setCachePreparedStatements(false)
                .setTcpKeepAlive(true)
                .addProperty("application_name", APPLICATION_NAME);
        if (trustedCa != null) {
            // verify-ca with a trust manager that checks the chain and the instance's name itself: verify-full
            // would check the name against the pod IP
            options.setSslMode(SslMode.VERIFY_CA).setHostnameVerificationAlgorithm("")
                    .setTrustOptions(TrustOptions.wrap(ServerIdentity.trustManager(trustedCa, name)));
        }
    }

    public String name() {
        return name;
    }

    public int port() {
        return options.getPort();
    }

    /**
     * Checks the instance, waiting at most {@code timeout} for the answer. Never fails: an
     * instance that answers with an error, refuses or resets is reported unreachable, one that
     * gives no answer in time is reported {@linkplain InstanceObservation#silent silent} for as
     * long as it has not answered any check. A check that got no answer in time is not abandoned:
     * it stays in flight on the connection (the next calls wait for the same one rather than pile
     * more on), and an answer that comes late is handed to the next call and counts as the sign of
     * life it is. Only a check in flight for {@link #STALLED} is given up, with its connection
     * (half-open TCP without a reset would otherwise wait for good). {@code slotOwners} maps slot
     * names to instance names.
     */
    public Future<InstanceObservation> observe(Duration timeout, Map<String, String> slotOwners) {
        Future<InstanceObservation> check;
        synchronized (this) {
            if (late != null) {
                InstanceObservation answer = late;
                late = null;
                return Future.succeededFuture(answer);
            }
            if (inFlight == null) {
                long sent = System.nanoTime();
                Future<InstanceObservation> started = check(slotOwners).timeout(STALLED.toMillis(), TimeUnit.MILLISECONDS);
                inFlight = started;
                check = started;
                // may run at once, when the check already failed (no connection)
                started.onComplete(ar -> checked(started, sent, ar.succeeded() ? ar.result() : null));
            } else {
                check = inFlight;
            }
        }
        return check.timeout(timeout.toMillis(), TimeUnit.MILLISECONDS).recover(e -> {
            if (isTimeout(e)) {
                synchronized (this) {
                    if (inFlight == check) {
                        waitedOut = check;
                        return Future.succeededFuture(InstanceObservation.silent(name, clock.instant(),
                                Duration.ofNanos(System.nanoTime() - lastAnsweredSent)));
                    }
                }
            }
            return Future.succeededFuture(InstanceObservation.unreachable(name, clock.instant(), message(e)));
        });
    }

    /**
     * One check of its own, sent now and never shared with {@link #observe}'s: for a failover's
     * steps, which must see the instance as it is after what they just did. Never fails; no
     * answer within {@code timeout} reports it unreachable.
     */
    public Future<InstanceObservation> observeNow(Duration timeout) {
        return check(Map.of()).timeout(timeout.toMillis(), TimeUnit.MILLISECONDS)
                .recover(e -> {
                    if (!isTimeout(e)) {
                        drop();
                    }
                    return Future.succeededFuture(InstanceObservation.unreachable(name, clock.instant(), message(e)));
                });
    }

    private Future<InstanceObservation> check(Map<String, String> slotOwners) {
        return connection()
                .compose(c -> c.query(STATE_SQL).execute().compose(state -> {
                    Row row = state.iterator().next();
                    if (Boolean.TRUE.equals(row.getBoolean("in_recovery"))) {
                        return Future.succeededFuture(standby(row));
                    }
                    return c.query(REPLICATION_SQL).execute().map(rs -> primary(row, rs, slotOwners));
                }));
    }

    /**
     * A check ended: an answer (null when it failed) is a sign of life, kept for the next call if
     * nobody waits for it any more; a failure drops the connection.
     */
    private synchronized void checked(Future<InstanceObservation> check, long sent, InstanceObservation answer) {
        if (inFlight == check) {
            inFlight = null;
        }
        if (answer != null) {
            lastAnsweredSent = Math.max(lastAnsweredSent, sent);
            if (waitedOut == check) {
                late = answer;
            }
        } else {
            drop();
        }
        if (waitedOut == check) {
            waitedOut = null;
        }
    }

    private static boolean isTimeout(Throwable e) {
        return e instanceof java.util.concurrent.TimeoutException || e instanceof io.vertx.core.impl.NoStackTraceTimeoutException;
    }

    private InstanceObservation standby(Row row) {
        Integer tli = row.getInteger("receiver_tli");
        if (tli == null) {
            // no WAL receiver (a failed primary, a freeze): the last restartpoint's timeline can be
            // several failovers old, which would rank a standby with more WAL below one without it
            Integer history = row.getInteger("history_tli");
            Integer checkpoint = row.getInteger("checkpoint_tli");
            tli = history == null ? checkpoint : checkpoint == null ? history : Math.max(history, checkpoint);
        }
        return InstanceObservation.standby(name, clock.instant(), tli, Lsn.parseNullable(row.getString("receive_lsn")),
                Lsn.parseNullable(row.getString("replay_lsn")), "streaming".equals(row.getString("receiver_status")),
                row.getString("conninfo")).withReplayDelay(row.getDouble("replay_delay"))
                .withWalReceiptAge(row.getDouble("receipt_age")).withApplyDelayed(Boolean.TRUE.equals(row.getBoolean("apply_delayed")));
    }

    private InstanceObservation primary(Row row, RowSet<Row> replication, Map<String, String> slotOwners) {
        List<InstanceObservation.Replica> replicas = new ArrayList<>();
        for (Row r : replication) {
            String slot = r.getString("slot_name");
            String instance = slot != null && slotOwners.containsKey(slot) ? slotOwners.get(slot) : r.getString("application_name");
            replicas.add(new InstanceObservation.Replica(instance, r.getString("state"), r.getString("sync_state"),
                    Lsn.parseNullable(r.getString("sent_lsn")), Lsn.parseNullable(r.getString("flush_lsn")),
                    Lsn.parseNullable(r.getString("replay_lsn")), r.getDouble("replay_lag")));
        }
        return InstanceObservation.primary(name, clock.instant(), row.getInteger("wal_tli"),
                Lsn.parse(row.getString("current_lsn")), replicas).withSynchronousStandbyNames(row.getString("sync_names"));
    }

    /**
     * Where a standby stood once its WAL receiver was detached. {@code receiverStopped} false: the
     * standby answered but its WAL receiver did not exit in time (a hung or frozen process), so
     * it may still write WAL it is sent.
     */
    public record Frozen(InstanceObservation standby, boolean receiverStopped) {
    }

    /** Every connection of the monitors carries this name, so that a new leader can tell them apart. */
    static final String APPLICATION_NAME = "pgha-monitor";

    /**
     * Ends the sessions other monitors hold on this instance, waiting (up to 5 s each) until they
     * are gone. A former leader that was frozen while it promoted could otherwise thaw and send
     * its pg_promote on a session it already had, after this monitor chose another candidate.
     */
    static final String END_OTHER_MONITORS_SESSIONS = "SELECT count(pg_terminate_backend(pid, 5000)) FROM pg_stat_activity "
            + "WHERE application_name = '" + APPLICATION_NAME + "' AND pid <> pg_backend_pid()";

    /**
     * Detaches the WAL receiver ({@code primary_conninfo = ''}), waits until it is gone (for at
     * most three quarters of {@code timeout}, leaving the rest to read the position), and reports
     * where the standby stands then. Fails when the standby itself does not answer.
     */
    public Future<Frozen> freeze(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        long stopDeadline = System.nanoTime() + timeout.toNanos() * 3 / 4;
        return scalar(END_OTHER_MONITORS_SESSIONS)
                .compose(v -> setPrimaryConninfo(""))
                .compose(v -> pollUntil(() -> scalar("SELECT count(*) FROM pg_stat_wal_receiver")
                        .map(n -> ((Number) n).longValue() == 0), stopDeadline, "its WAL receiver to stop")
                        .map(true).otherwise(false))
                .compose(stopped -> observeNow(remaining(deadline)).compose(o -> o.reachable()
                        ? Future.succeededFuture(new Frozen(o, stopped)) : Future.failedFuture(o.error())));
    }

    /** ALTER SYSTEM SET primary_conninfo and reload: re-points (or detaches) a standby's WAL receiver. */
    public Future<Void> setPrimaryConninfo(String conninfo) {
        return execute("ALTER SYSTEM SET primary_conninfo = " + literal(conninfo))
                .compose(v -> execute("SELECT pg_reload_conf()"));
    }

    /** A physical slot for {@code slot}, reserving WAL now, unless it exists. */
    public Future<Void> ensureSlot(String slot) {
        return connection().compose(c -> c.preparedQuery("SELECT pg_create_physical_replication_slot($1, true) "
                + "WHERE NOT EXISTS (SELECT 1 FROM pg_replication_slots WHERE slot_name = $1)").execute(Tuple.of(slot)))
                .mapEmpty();
    }

    /**
     * pg_promote(wait => true): true once the instance left recovery. Fails after {@code timeout}
     * at the latest (the server waits in whole seconds, at most the whole seconds of it).
     */
    public Future<Boolean> promote(Duration timeout, BooleanSupplier stillLeads) {
        int seconds = (int) Math.max(1, timeout.toSeconds());
        // asked again just before the request is written: a monitor frozen since it decided to promote
        // (SIGSTOP, a long pause) must not send it once it thaws; its lease has run out meanwhile
        return connection().compose(c -> stillLeads.getAsBoolean()
                        ? c.preparedQuery("SELECT pg_promote(true, $1)").execute(Tuple.of(seconds))
                        : Future.<RowSet<Row>>failedFuture("no longer leads: not promoting " + name))
                .map(rs -> rs.iterator().next().getBoolean(0))
                .timeout(timeout.toMillis(), TimeUnit.MILLISECONDS)
                .onFailure(e -> drop());
    }

    /**
     * Waits until the standby has replayed all it received, and at least up to {@code atLeast}
     * when given. Fails when the time runs out.
     */
    public Future<InstanceObservation> awaitCatchUp(Lsn atLeast, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        InstanceObservation[] last = new InstanceObservation[1];
        return pollUntil(() -> observeNow(Duration.ofSeconds(2)).map(o -> {
            last[0] = o;
            return o.caughtUp(atLeast);
        }), deadline, "replay to reach " + (atLeast == null ? "the received WAL" : atLeast))
                .map(v -> last[0]);
    }

    public Future<Object> scalar(String sql) {
        return connection().compose(c -> c.query(sql).execute()).map(rs -> rs.iterator().next().getValue(0))
                .onFailure(e -> drop());
    }

    public Future<Void> execute(String sql) {
        return connection().compose(c -> c.query(sql).execute()).<Void>mapEmpty().onFailure(e -> drop());
    }

    private Future<Void> pollUntil(java.util.function.Supplier<Future<Boolean>> check, long deadline, String what) {
        Promise<Void> done = Promise.promise();
        poll(check, deadline, what, done);
        return done.future();
    }

    private void poll(java.util.function.Supplier<Future<Boolean>> check, long deadline, String what, Promise<Void> done) {
        check.get().onComplete(ar -> {
            if (ar.succeeded() && Boolean.TRUE.equals(ar.result())) {
                done.complete();
            } else if (System.nanoTime() > deadline) {
                done.fail(name + ": timed out waiting for " + what
                        + (ar.failed() ? " (" + message(ar.cause()) + ")" : ""));
            } else {
                vertx.setTimer(POLL.toMillis(), t -> poll(check, deadline, what, done));
            }
        });
    }

    private static Duration remaining(long deadline) {
        return Duration.ofNanos(Math.max(Duration.ofMillis(200).toNanos(), deadline - System.nanoTime()));
    }

    /**
     * A certificate the monitor refused is worth an operator's attention (a wrong Secret, a CA
     * mismatch), unlike a refused connection, which the instance's health already reports.
     */
    private void logRefusedCertificate(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof java.security.cert.CertificateException) {
                LOG.warnf("%s: refused its TLS certificate: %s", name, t.getMessage());
                return;
            }
        }
    }

    private synchronized Future<PgConnection> connection() {
        if (connection != null) {
            return Future.succeededFuture(connection);
        }
        return PgConnection.connect(vertx, options).onFailure(this::logRefusedCertificate).map(c -> {
            synchronized (this) {
                if (connection != null) {
                    c.close();
                    return connection;
                }
                connection = c;
                c.closeHandler(v -> forget(c));
                // a server that goes away says so on the connection; the next check reports it
                c.exceptionHandler(e -> forget(c));
                return c;
            }
        });
    }

    private void forget(PgConnection c) {
        synchronized (this) {
            if (connection != c) {
                return;
            }
            connection = null;
        }
        lost.run();
    }

    /** Closes the connection (a timed-out check leaves it in an unknown state). */
    public synchronized void drop() {
        if (connection != null) {
            connection.close();
            connection = null;
        }
    }

    @Override
    public void close() {
        drop();
    }

    static String literal(String s) {
        return "'" + s.replace("'", "''") + "'";
    }

    static String message(Throwable e) {
        if (isTimeout(e)) {
            return "no answer in time";
        }
        String m = e.getMessage();
        return m == null ? e.getClass().getSimpleName() : m.lines().findFirst().orElse(m);
    }
}
