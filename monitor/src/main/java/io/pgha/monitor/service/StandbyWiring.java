package io.pgha.monitor.service;

import io.pgha.api.ClusterNames;
import io.pgha.monitor.core.Conninfo;
import io.pgha.monitor.core.InstanceObservation;
import io.pgha.monitor.pg.Await;
import io.pgha.monitor.pg.InstanceConnection;
import io.vertx.core.Future;
import org.jboss.logging.Logger;

import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;

/**
 * Where each standby streams from: freezing (detaching) WAL receivers for a failover, giving them
 * back, pointing them at a new primary with their slots there, and repairing standbys that point
 * elsewhere. A standby keeps its own connection string; only host and port change.
 */
final class StandbyWiring {
    private static final Logger LOG = Logger.getLogger(StandbyWiring.class);

    private final InstancePool pool;
    private final InstanceDirectory directory;
    private final Supplier<Map<String, InstanceObservation>> latest;
    private final Clock clock;
    /** primary_conninfo of each standby frozen by the running procedure. */
    private final Map<String, String> savedConninfo = new HashMap<>();

    StandbyWiring(InstancePool pool, InstanceDirectory directory, Supplier<Map<String, InstanceObservation>> latest,
                  Clock clock) {
        this.pool = pool;
        this.directory = directory;
        this.latest = latest;
        this.clock = clock;
    }

    /**
     * Where the standbys stood once frozen (unreachable ones as unreachable), and those among them
     * that answered but whose WAL receiver did not stop.
     */
    record Frozen(Map<String, InstanceObservation> positions, java.util.Set<String> stillReceiving) {
    }

    /**
     * Detaches the standbys' WAL receivers, remembering each one's primary_conninfo, and returns
     * where each stands then.
     */
    Frozen freeze(List<String> standbys, Duration freezeTimeout) {
        Map<String, Future<InstanceConnection.Frozen>> futures = new LinkedHashMap<>();
        for (String s : standbys) {
            InstanceObservation before = latest.get().get(s);
            if (before != null && before.replicaConninfo() != null && !before.replicaConninfo().isBlank()) {
                savedConninfo.put(s, before.replicaConninfo());
            }
            futures.put(s, pool.connection(s).freeze(freezeTimeout));
        }
        Map<String, InstanceObservation> positions = new LinkedHashMap<>();
        java.util.Set<String> stillReceiving = new java.util.TreeSet<>();
        futures.forEach((s, f) -> {
            InstanceObservation o;
            try {
                InstanceConnection.Frozen frozen = Await.result(f, freezeTimeout.plus(Await.SLACK));
                o = frozen.standby();
                if (!frozen.receiverStopped()) {
                    LOG.warnf("%s answers but its WAL receiver did not stop in time: compared, never promoted", s);
                    stillReceiving.add(s);
                }
                InstanceObservation before = latest.get().get(s);
                // a stopped WAL receiver no longer tells its timeline; timelines only grow, so the one seen streaming stands
                if (before != null && before.timeline() != null && (o.timeline() == null || o.timeline() < before.timeline())) {
                    o = InstanceObservation.standby(s, o.at(), before.timeline(), o.receiveLsn(), o.replayLsn(), false,
                            o.replicaConninfo());
                }
            } catch (Await.FailedException e) {
                LOG.warnf("cannot freeze %s: %s", s, e.getMessage());
                o = InstanceObservation.unreachable(s, clock.instant(), e.getMessage());
            }
            positions.put(s, o);
        });
        LOG.infof("frozen positions: %s", positions.values().stream()
                .map(o -> o.name() + "=" + (o.reachable() ? "tli " + o.timeline() + " " + o.position() : "unreachable")
                        + (stillReceiving.contains(o.name()) ? " (WAL receiver still running)" : "")).toList());
        return new Frozen(positions, stillReceiving);
    }

    /**
     * Slots on the new primary for every other instance, then each standby pointed at it, all
     * within {@code timeout} (a standby left behind is re-pointed by {@link #repair} later).
     */
    void repoint(String newPrimary, List<String> standbys, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        InstanceConnection primary = pool.connection(newPrimary);
        for (String n : pool.names()) {
            if (!n.equals(newPrimary)) {
                try {
                    Await.result(primary.ensureSlot(ClusterNames.replicationSlot(n)), left(deadline));
                } catch (Await.FailedException e) {
                    LOG.warnf("cannot create the slot of %s on %s: %s", n, newPrimary, e.getMessage());
                }
            }
        }
        InstanceDirectory.Endpoint at = pool.endpoint(newPrimary);
        List<Future<Void>> pending = new ArrayList<>();
        for (String s : standbys) {
            pending.add(pool.connection(s).setPrimaryConninfo(conninfoFor(s, at).toString())
                    .onFailure(e -> LOG.warnf("cannot re-point %s: %s (will retry)", s, e.getMessage())));
        }
        for (Future<Void> f : pending) {
            try {
                Await.result(f, left(deadline));
            } catch (Await.FailedException ignored) {
                // logged above; repairStandbys retries once the standby answers
            }
        }
        savedConninfo.clear();
    }

    /** Gives frozen standbys their previous primary back, within {@code timeout}. */
    void unfreeze(List<String> standbys, String primary, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        for (String s : standbys) {
            InstanceDirectory.Endpoint at = pool.contains(primary) ? pool.endpoint(primary) : null;
            String conninfo = savedConninfo.getOrDefault(s, at == null ? null : directory.replicationConninfo(s, at).toString());
            if (conninfo == null) {
                continue;
            }
            try {
                Await.result(pool.connection(s).setPrimaryConninfo(conninfo), left(deadline));
            } catch (Await.FailedException e) {
                LOG.warnf("cannot unfreeze %s: %s", s, e.getMessage());
            }
        }
        savedConninfo.clear();
    }

    /** What is left until {@code deadline} ({@link System#nanoTime()}), never negative. */
    private static Duration left(long deadline) {
        return Duration.ofNanos(Math.max(0, deadline - System.nanoTime()));
    }

    /** The standby's own connection string aimed at {@code primary}, or the provisioner's default one. */
    Conninfo conninfoFor(String standby, InstanceDirectory.Endpoint primary) {
        String known = savedConninfo.get(standby);
        if (known == null) {
            InstanceObservation o = latest.get().get(standby);
            known = o == null ? null : o.replicaConninfo();
        }
        Conninfo base;
        try {
            base = known == null || known.isBlank() ? null : Conninfo.parse(known);
        } catch (IllegalArgumentException e) {
            base = null;
        }
        if (base == null || base.isEmpty()) {
            return directory.replicationConninfo(standby, primary);
        }
        return base.pointedAt(primary.host(), primary.port());
    }

    /**
     * Standbys that point elsewhere than the primary (a re-point that failed while they were
     * down, a freeze left behind by a monitor that died) are pointed at it.
     */
    void repair(String primary, List<String> names, Map<String, InstanceObservation> observed) {
        InstanceDirectory.Endpoint at = pool.endpoint(primary);
        if (at == null) {
            return;
        }
        for (String n : names) {
            InstanceObservation o = observed.get(n);
            // a fenced instance already back in recovery cannot take writes; pointing it at the current
            // primary is how it finishes rejoining (and is un-fenced), even when the primary it was
            // rejoined to has failed in the meantime
            if (n.equals(primary) || o == null || !o.isStandby() || o.replicaConninfo() == null) {
                continue;
            }
            String currentHost;
            String currentPort;
            try {
                Conninfo current = Conninfo.parse(o.replicaConninfo());
                currentHost = current.get("host");
                currentPort = current.get("port");
            } catch (IllegalArgumentException e) {
                currentHost = null;
                currentPort = null;
            }
            if (at.host().equals(currentHost) && Integer.toString(at.port()).equals(currentPort)) {
                continue;
            }
            Conninfo target = conninfoFor(n, at);
            LOG.infof("standby %s points at %s:%s, not at primary %s: re-pointing", n, currentHost, currentPort, primary);
            try {
                Await.result(pool.connection(n).setPrimaryConninfo(target.toString()), Duration.ofSeconds(5));
            } catch (Await.FailedException e) {
                LOG.warnf("cannot re-point %s: %s", n, e.getMessage());
            }
        }
    }
}
