package io.pgha.monitor.core;

import io.pgha.api.postgres.Lsn;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * What one check of one instance saw. An unreachable instance has only its name, the time and
 * the error; everything else is null.
 *
 * @param currentLsn        primary only: pg_current_wal_lsn()
 * @param receiveLsn        standby only: last WAL received and flushed (pg_last_wal_receive_lsn())
 * @param replayLsn         standby only: last WAL replayed
 * @param streaming         standby only: its WAL receiver is connected and streaming
 * @param replicaConninfo   standby only: its primary_conninfo as set now (empty when frozen)
 * @param replicas          primary only: one row of pg_stat_replication per connected standby
 * @param synchronousStandbyNames primary only: its synchronous_standby_names as in effect now
 * @param walReceiptAgeSeconds standby only: how long ago its WAL receiver last heard from the
 *                          primary's WAL sender (data or keepalive), on the standby's own clock
 * @param silence           unreachable only, and only when the check got no answer in time (not
 *                          when it failed with an error): how long the instance has not answered
 *                          any check, from the sending of the last check it answered
 * @param applyDelayed      standby only: recovery_min_apply_delay is set (a delayed standby, set by
 *                          hand: pgha makes none), so its replay trails what it received on purpose
 */
public record InstanceObservation(String name, Instant at, boolean reachable, String error, Boolean inRecovery,
                                  Integer timeline, Lsn currentLsn, Lsn receiveLsn, Lsn replayLsn, boolean streaming,
                                  Double replayDelaySeconds, String replicaConninfo, List<Replica> replicas,
                                  String synchronousStandbyNames, Double walReceiptAgeSeconds, Duration silence,
                                  boolean applyDelayed) {

    /** The check failed: the instance refused, reset the connection, or answered with an error. */
    public static InstanceObservation unreachable(String name, Instant at, String error) {
        return new InstanceObservation(name, at, false, error, null, null, null, null, null, false, null, null, List.of(),
                null, null, null, false);
    }

    /** The check got no answer in time; the instance has not answered any check for {@code silence}. */
    public static InstanceObservation silent(String name, Instant at, Duration silence) {
        return new InstanceObservation(name, at, false, "no answer for " + silence.toMillis() + " ms", null, null, null,
                null, null, false, null, null, List.of(), null, null, silence, false);
    }

    public static InstanceObservation primary(String name, Instant at, int timeline, Lsn current, List<Replica> replicas) {
        return new InstanceObservation(name, at, true, null, false, timeline, current, null, null, false, null, null,
                List.copyOf(replicas), null, null, null, false);
    }

    public static InstanceObservation standby(String name, Instant at, Integer timeline, Lsn receive, Lsn replay,
                                              boolean streaming, String conninfo) {
        return new InstanceObservation(name, at, true, null, true, timeline, null, receive, replay, streaming, null,
                conninfo, List.of(), null, null, null, false);
    }

    public boolean isPrimary() {
        return reachable && Boolean.FALSE.equals(inRecovery);
    }

    public boolean isStandby() {
        return reachable && Boolean.TRUE.equals(inRecovery);
    }

    /**
     * How far this instance's WAL goes: the primary's current position, a standby's greater of
     * received and replayed. Null when unknown.
     */
    public Lsn position() {
        if (isPrimary()) {
            return currentLsn;
        }
        return Lsn.max(receiveLsn, replayLsn);
    }

    /** Received but not yet replayed bytes (standby); 0 when unknown. */
    public long replayBacklogBytes() {
        if (receiveLsn == null || replayLsn == null) {
            return 0;
        }
        return Math.max(0, receiveLsn.minus(replayLsn));
    }

    public Optional<Replica> replica(String instance) {
        return replicas.stream().filter(r -> instance.equals(r.instance())).findFirst();
    }

    /**
     * One row of the primary's pg_stat_replication, matched to an instance through its
     * replication slot (or its application_name).
     */
    public record Replica(String instance, String state, String syncState, Lsn sentLsn, Lsn flushLsn, Lsn replayLsn,
                          Double replayLagSeconds) {
        public boolean synchronous() {
            return "sync".equals(syncState) || "quorum".equals(syncState);
        }
    }

    public InstanceObservation withReplayDelay(Double seconds) {
        return new InstanceObservation(name, at, reachable, error, inRecovery, timeline, currentLsn, receiveLsn, replayLsn,
                streaming, seconds, replicaConninfo, replicas, synchronousStandbyNames, walReceiptAgeSeconds, silence, applyDelayed);
    }

    public InstanceObservation withSynchronousStandbyNames(String value) {
        return new InstanceObservation(name, at, reachable, error, inRecovery, timeline, currentLsn, receiveLsn, replayLsn,
                streaming, replayDelaySeconds, replicaConninfo, replicas, value, walReceiptAgeSeconds, silence, applyDelayed);
    }

    public InstanceObservation withWalReceiptAge(Double seconds) {
        return new InstanceObservation(name, at, reachable, error, inRecovery, timeline, currentLsn, receiveLsn, replayLsn,
                streaming, replayDelaySeconds, replicaConninfo, replicas, synchronousStandbyNames, seconds, silence, applyDelayed);
    }

    public InstanceObservation withApplyDelayed(boolean delayed) {
        return new InstanceObservation(name, at, reachable, error, inRecovery, timeline, currentLsn, receiveLsn, replayLsn,
                streaming, replayDelaySeconds, replicaConninfo, replicas, synchronousStandbyNames, walReceiptAgeSeconds, silence,
                delayed);
    }

    /**
     * Whether a promotion candidate is ready to be promoted: it replayed all it received, and at
     * least up to {@code atLeast} when that is not null. A delayed standby only needs to have
     * received that far: its replay waits on purpose, and promotion ends the delay and replays
     * the rest at once (waiting for it would stall the failover until the catch-up timeout, and
     * make a switchover to it fail).
     */
    public boolean caughtUp(Lsn atLeast) {
        if (!isStandby()) {
            return isPrimary();
        }
        if (applyDelayed) {
            return atLeast == null || (receiveLsn != null && receiveLsn.isAtLeast(atLeast));
        }
        boolean replayed = replayLsn != null && (receiveLsn == null || replayLsn.isAtLeast(receiveLsn));
        return replayed && (atLeast == null || replayLsn.isAtLeast(atLeast));
    }
}
