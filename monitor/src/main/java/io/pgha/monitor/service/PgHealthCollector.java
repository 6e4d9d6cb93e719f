package io.pgha.monitor.service;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.pgha.api.MetricLabels;
import io.pgha.monitor.core.InstanceObservation;
import io.pgha.monitor.core.PgHealth;
import io.pgha.monitor.core.QuorumConfirmation;
import io.pgha.monitor.pg.InstanceConnection;
import io.vertx.core.Future;
import org.jboss.logging.Logger;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * PostgreSQL's own health as Prometheus metrics ({@code pgha_pg_*}), read by the leading monitor
 * over the connections it checks the instances with, every {@link #INTERVAL} (the statements are
 * {@link PgHealth}'s). Only the leader exports them, so each series exists once per cluster. The
 * reads run asynchronously: a slow one never delays a round of checks, and a new read starts only
 * once the previous one is done.
 */
final class PgHealthCollector implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(PgHealthCollector.class);
    /** pg_database_size walks every database's files: often enough for dashboards, not every check. */
    static final Duration INTERVAL = Duration.ofSeconds(5);
    static final Duration QUERY_TIMEOUT = Duration.ofSeconds(5);

    static final String WAL_RECEIVER_UP = "pgha.pg.wal.receiver.up";
    static final String SLOT_ACTIVE = "pgha.pg.replication.slot.active";
    static final String SLOT_RETAINED = "pgha.pg.replication.slot.retained.wal.bytes";
    static final String SLOT_SAFE = "pgha.pg.replication.slot.safe.wal.size.bytes";
    static final String DATABASE_SIZE = "pgha.pg.database.size.bytes";
    /** Read on the primary only; removed from an instance that is no longer the primary. */
    private static final Set<String> PRIMARY_ONLY = Set.of(SLOT_ACTIVE, SLOT_RETAINED, SLOT_SAFE,
            "pgha.pg.archiver.archived", "pgha.pg.archiver.failed", "pgha.pg.archiver.last.archive.age.seconds",
            "pgha.pg.quorum.required", "pgha.pg.quorum.confirming");

    private final MetricSeries series;
    private final Tags cluster;
    private final QuorumConfirmation quorum = new QuorumConfirmation();
    private final AtomicBoolean reading = new AtomicBoolean();
    private volatile boolean leading;
    private long lastRead = System.nanoTime() - INTERVAL.toNanos();

    PgHealthCollector(MeterRegistry registry, String namespace, String cluster) {
        this.series = new MetricSeries(registry);
        this.cluster = MonitorMetrics.clusterTags(namespace, cluster);
    }

    /**
     * Called every round on the monitor's thread, after the checks: exports what the checks saw
     * and, when due, starts reading the instances that answered.
     */
    void round(boolean leader, String recordedPrimary, Map<String, InstanceObservation> observed,
               Function<String, InstanceConnection> connections) {
        synchronized (this) {
            leading = leader;
            if (!leader) {
                series.clear();
                return;
            }
            observed.forEach((name, o) -> {
                if (!o.reachable()) {
                    // an instance that does not answer has no figures: old ones would look current
                    series.removeIf(id -> name.equals(id.getTag(MetricLabels.INSTANCE)));
                } else if (o.isStandby()) {
                    series.gauge(WAL_RECEIVER_UP, "1 when the standby's WAL receiver streams", instance(name), o.streaming() ? 1 : 0);
                } else {
                    series.removeIf(id -> WAL_RECEIVER_UP.equals(id.getName()) && name.equals(id.getTag(MetricLabels.INSTANCE)));
                }
            });
            series.removeIf(id -> id.getTag(MetricLabels.INSTANCE) != null && !observed.containsKey(id.getTag(MetricLabels.INSTANCE)));
        }
        if (System.nanoTime() - lastRead < INTERVAL.toNanos() || !reading.compareAndSet(false, true)) {
            return;
        }
        lastRead = System.nanoTime();
        List<Future<?>> reads = new ArrayList<>();
        observed.forEach((name, o) -> {
            if (!o.reachable()) {
                return;
            }
            InstanceConnection c = connections.apply(name);
            if (c == null) {
                return;
            }
            reads.add(read(c, PgHealth.INSTANCE_SQL).onSuccess(json -> exportInstance(name, PgHealth.instance(json))));
            if (name.equals(recordedPrimary) && o.isPrimary()) {
                reads.add(read(c, PgHealth.PRIMARY_SQL).onSuccess(json -> exportPrimary(name, PgHealth.primary(json))));
            }
        });
        Future.join(reads).onComplete(done -> reading.set(false));
    }

    private static Future<String> read(InstanceConnection c, String sql) {
        return c.scalar(sql).map(v -> v == null ? null : v.toString())
                .timeout(QUERY_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)
                .onFailure(e -> LOG.debugf("reading PostgreSQL's health on %s: %s", c.name(), e.getMessage()));
    }

    private Tags instance(String name) {
        return cluster.and(MetricLabels.INSTANCE, name);
    }

    private synchronized void exportInstance(String name, PgHealth.Instance h) {
        if (!leading) {
            return;
        }
        Tags t = instance(name);
        h.sessions().forEach((state, n) -> series.gauge("pgha.pg.sessions", "Client backends by state", t.and("state", state), n));
        series.gauge("pgha.pg.oldest.transaction.age.seconds", "Age of the oldest open transaction of a client backend",
                t, h.oldestTransactionAgeSeconds());
        series.gauge("pgha.pg.xid.age", "Transaction IDs to the oldest unfrozen one: max of age(datfrozenxid) and mxid_age(datminmxid)",
                t, h.xidAge());
        series.removeIf(id -> DATABASE_SIZE.equals(id.getName()) && name.equals(id.getTag(MetricLabels.INSTANCE))
                && !h.databaseSizeBytes().containsKey(id.getTag("database")));
        h.databaseSizeBytes().forEach((db, bytes) -> series.gauge(DATABASE_SIZE, "Size of the database's files",
                t.and("database", db), bytes));
        series.counter("pgha.pg.deadlocks", "Deadlocks detected, over all databases", t, h.deadlocks());
        series.counter("pgha.pg.conflicts", "Queries cancelled by recovery conflicts, over all databases", t, h.conflicts());
        series.counter("pgha.pg.checkpoints", "Checkpoints (restartpoints on a standby) started", t.and("kind", "timed"),
                h.checkpointsTimed());
        series.counter("pgha.pg.checkpoints", "Checkpoints (restartpoints on a standby) started", t.and("kind", "requested"),
                h.checkpointsRequested());
        series.gauge("pgha.pg.postmaster.start.timestamp.seconds", "When the server started (Unix time)", t,
                h.postmasterStartSeconds());
        series.gauge("pgha.pg.server.version.num", "server_version_num, e.g. 150010", t, h.serverVersionNum());
    }

    private synchronized void exportPrimary(String name, PgHealth.Primary p) {
        if (!leading || p == null) {
            return;
        }
        Set<String> slots = p.slots().stream().map(PgHealth.Slot::name).collect(Collectors.toSet());
        series.removeIf(id -> PRIMARY_ONLY.contains(id.getName()) && (!name.equals(id.getTag(MetricLabels.INSTANCE))
                || id.getTag("slot") != null && !slots.contains(id.getTag("slot"))));
        Tags t = instance(name);
        for (PgHealth.Slot s : p.slots()) {
            Tags st = t.and("slot", s.name());
            series.gauge(SLOT_ACTIVE, "1 while a WAL sender uses the replication slot", st, s.active() ? 1 : 0);
            series.gauge(SLOT_RETAINED, "WAL kept for the slot: from its restart_lsn to the primary's position", st,
                    s.retainedWalBytes() == null ? 0 : s.retainedWalBytes());
            if (s.safeWalSizeBytes() != null) {
                series.gauge(SLOT_SAFE, "WAL that may still be written before the slot is invalidated", st, s.safeWalSizeBytes());
            } else {
                series.removeIf(id -> SLOT_SAFE.equals(id.getName()) && s.name().equals(id.getTag("slot")));
            }
        }
        series.counter("pgha.pg.archiver.archived", "WAL files the primary archived (pg_stat_archiver)", t, p.archiver().archived());
        series.counter("pgha.pg.archiver.failed", "Failed WAL archiving attempts on the primary (pg_stat_archiver)", t,
                p.archiver().failed());
        if (p.archiver().lastArchiveAgeSeconds() != null) {
            series.gauge("pgha.pg.archiver.last.archive.age.seconds", "Seconds since the primary last archived a WAL file", t,
                    p.archiver().lastArchiveAgeSeconds());
        }
        series.gauge("pgha.pg.quorum.required", "Synchronous standbys that must confirm a commit (0: asynchronous)", t,
                QuorumConfirmation.required(p.synchronousStandbyNames()));
        series.gauge("pgha.pg.quorum.confirming", "Synchronous standbys whose flush keeps up and whose last reply is recent",
                t, quorum.confirming(name, p));
    }

    @Override
    public synchronized void close() {
        leading = false;
        series.clear();
    }
}
