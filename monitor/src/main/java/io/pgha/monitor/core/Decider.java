package io.pgha.monitor.core;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Decides, from one round of checks, whether the monitor should act. Pure: the caller applies the
 * decision. The guard rails live here: nothing happens unless this monitor holds the lease; nothing
 * while failover is disabled; no failover when no instance at all answers (then the monitor is
 * the isolated one, not the primary); none while the primary restarts under a planned-maintenance
 * hold; never a promotion while another instance already runs as primary; no failover away from
 * a primary that only stopped answering in time while no standby has ever streamed from it.
 */
public final class Decider {
    private Decider() {
    }

    /**
     * One round of checks.
     *
     * @param instances       every instance that exists
     * @param currentPrimary  the primary recorded in status; null before bootstrap finished
     * @param timeline        the primary's timeline recorded in status; null when unknown
     * @param fenced          instances fenced by an earlier failover that have not rejoined yet
     * @param latest          the latest observation of each instance
     * @param failures        consecutive failed checks of each instance
     * @param maintenance     instances under an unexpired planned-maintenance hold ({@link MaintenanceHold})
     * @param streamedFrom    standbys this monitor saw streaming from the recorded primary since it
     *                        became the primary (its replication view); the decision adds those whose
     *                        WAL receiver is connected now and those a failover froze
     */
    public record View(boolean leader, MonitorSettings settings, List<String> instances, String currentPrimary,
                       Integer timeline, Set<String> fenced, Map<String, InstanceObservation> latest,
                       Map<String, Integer> failures, Set<String> maintenance, Set<String> streamedFrom) {
        /** A view without replication evidence: for a primary that failed by silence, no failover. */
        public View(boolean leader, MonitorSettings settings, List<String> instances, String currentPrimary,
                    Integer timeline, Set<String> fenced, Map<String, InstanceObservation> latest,
                    Map<String, Integer> failures, Set<String> maintenance) {
            this(leader, settings, instances, currentPrimary, timeline, fenced, latest, failures, maintenance, Set.of());
        }

        int failuresOf(String instance) {
            return failures.getOrDefault(instance, 0);
        }

        InstanceObservation observation(String instance) {
            return latest.get(instance);
        }
    }

    public sealed interface Decision permits Idle, Hold, Failover, Refence, Adopt {
    }

    /**
     * The recorded primary failed and one other instance already runs as a primary on a later
     * timeline than the recorded one: a promotion whose recording was interrupted (the monitor
     * that did it died). Record it rather than promote a second one.
     */
    public record Adopt(String instance, int timeline, String reason) implements Decision {
    }

    /** Nothing to do. */
    public record Idle(String why) implements Decision {
    }

    /** Something is wrong but acting would be unsafe or is not allowed; the reason goes to status. */
    public record Hold(String reason) implements Decision {
    }

    /** The primary failed: start a failover away from it. */
    public record Failover(String failedPrimary, String reason) implements Decision {
    }

    /** A fenced former primary runs as a primary again: stop it before anyone writes to it. */
    public record Refence(String instance, String reason) implements Decision {
    }

    public static Decision decide(View v) {
        if (!v.leader()) {
            return new Idle("not the leader");
        }
        if (v.currentPrimary() == null) {
            return new Idle("no primary recorded yet");
        }
        if (!v.settings().failoverEnabled()) {
            return new Idle("failover is disabled");
        }
        for (String f : new TreeSet<>(v.fenced())) {
            InstanceObservation o = v.observation(f);
            if (o != null && o.isPrimary() && !f.equals(v.currentPrimary())) {
                return new Refence(f, f + " was fenced but runs as a primary again");
            }
        }
        String primary = v.currentPrimary();
        int failures = v.failuresOf(primary);
        boolean primaryFenced = v.fenced().contains(primary);
        if (failures < v.settings().failureThreshold() && !primaryFenced) {
            return new Idle(failures == 0 ? "primary healthy" : primary + " failed " + failures + " check(s)");
        }
        if (!primaryFenced && v.maintenance().contains(primary)) {
            return new Hold("primary " + primary + " failed " + failures + " check(s) while it restarts for planned "
                    + "maintenance: no failover until its hold expires");
        }
        boolean anyReachable = v.latest().values().stream().anyMatch(InstanceObservation::reachable);
        if (!anyReachable) {
            return new Hold("no instance answers: this monitor may be the one cut off, so it does not fail over");
        }
        List<InstanceObservation> otherPrimaries = v.instances().stream()
                .filter(n -> !n.equals(primary))
                .map(v::observation)
                .filter(o -> o != null && o.isPrimary())
                .toList();
        if (otherPrimaries.size() == 1 && !v.fenced().contains(otherPrimaries.get(0).name())
                && otherPrimaries.get(0).timeline() != null && v.timeline() != null
                && otherPrimaries.get(0).timeline() > v.timeline()) {
            InstanceObservation o = otherPrimaries.get(0);
            return new Adopt(o.name(), o.timeline(), o.name() + " was promoted to timeline " + o.timeline()
                    + " but not recorded: adopting it as the primary");
        }
        if (!otherPrimaries.isEmpty()) {
            return new Hold(otherPrimaries.get(0).name() + " already runs as a primary: refusing to promote a second one");
        }
        boolean standbyReachable = v.instances().stream()
                .filter(n -> !n.equals(primary) && !v.fenced().contains(n))
                .map(v::observation)
                .anyMatch(o -> o != null && o.isStandby());
        if (!standbyReachable) {
            return new Hold("primary " + primary + " failed and no standby answers");
        }
        InstanceObservation primaryObs = v.observation(primary);
        if (!primaryFenced && primaryObs != null && primaryObs.silence() != null && !anyStreamedFrom(v, primary)) {
            return new Hold("primary " + primary + " does not answer in time, but no standby has streamed from it yet "
                    + "(a cluster still bootstrapping): a slow primary cannot be told from a dead one, so no failover");
        }
        String why = primaryFenced ? "primary " + primary + " is fenced"
                : "primary " + primary + " failed " + failures + " consecutive checks";
        return new Failover(primary, why);
    }

    /**
     * Whether some standby other than {@code primary} has streamed from it: this monitor saw it in
     * the primary's replication view, or its WAL receiver is connected now (it connects to nothing
     * else), or it is frozen (primary_conninfo emptied), which only a failover does once a leader
     * judged this primary failed. A standby that was cloned but never streamed (a cluster still
     * bootstrapping) is none of these.
     */
    static boolean anyStreamedFrom(View v, String primary) {
        return v.instances().stream().filter(n -> !n.equals(primary)).anyMatch(n -> {
            InstanceObservation o = v.observation(n);
            boolean frozen = o != null && o.isStandby() && o.replicaConninfo() != null && o.replicaConninfo().isBlank();
            return v.streamedFrom().contains(n) || o != null && o.isStandby() && (o.streaming() || frozen);
        });
    }

    /**
     * Fenced instances that are back as standbys streaming on the current timeline: the rejoin is
     * done and they may be candidates again.
     */
    public static Set<String> rejoined(View v) {
        Set<String> result = new TreeSet<>();
        for (String f : v.fenced()) {
            InstanceObservation o = v.observation(f);
            if (o != null && o.isStandby() && o.streaming() && o.timeline() != null && v.timeline() != null
                    && o.timeline() >= v.timeline()) {
                result.add(f);
            }
        }
        return result;
    }
}
