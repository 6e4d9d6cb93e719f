package io.pgha.monitor.core;

import io.pgha.api.postgres.Lsn;

import io.pgha.api.v1.cluster.TopologyStatus;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Turns a round of observations into the {@code status.topology.instances} list, and tells a
 * meaningful change (role, health, timeline, sync state, membership) from mere WAL progress, so
 * that status is written when something happened rather than on every check.
 *
 * <p>Only the recorded current primary is ever reported with role primary: another instance that
 * runs outside recovery is reported unhealthy and without a role, so status never shows two
 * primaries.
 */
public final class TopologyReport {
    private TopologyReport() {
    }

    public static List<TopologyStatus.Instance> instances(List<String> names, String currentPrimary, Set<String> fenced,
                                                          Map<String, InstanceObservation> latest) {
        InstanceObservation primary = currentPrimary == null ? null : latest.get(currentPrimary);
        List<TopologyStatus.Instance> result = new ArrayList<>();
        for (String name : names) {
            InstanceObservation o = latest.get(name);
            TopologyStatus.Instance i = new TopologyStatus.Instance();
            i.name = name;
            i.healthy = false;
            if (o != null && o.reachable()) {
                i.timeline = o.timeline();
                if (o.isPrimary() && name.equals(currentPrimary)) {
                    i.role = TopologyStatus.ROLE_PRIMARY;
                    i.receiveLsn = str(o.currentLsn());
                    i.healthy = !fenced.contains(name);
                } else if (o.isStandby()) {
                    i.role = TopologyStatus.ROLE_STANDBY;
                    i.receiveLsn = str(o.receiveLsn());
                    i.replayLsn = str(o.replayLsn());
                    i.healthy = o.streaming() && !fenced.contains(name);
                    InstanceObservation.Replica r = primary != null && primary.isPrimary()
                            ? primary.replica(name).orElse(null) : null;
                    if (r != null) {
                        i.syncState = r.syncState();
                    }
                    if (primary != null && primary.isPrimary() && primary.currentLsn() != null) {
                        Lsn replayed = Lsn.max(o.replayLsn(), r == null ? null : r.replayLsn());
                        i.lagBytes = replayed == null ? null : Math.max(0, primary.currentLsn().minus(replayed));
                    }
                    i.lagSeconds = lagSeconds(o, r, i.lagBytes);
                }
            }
            result.add(i);
        }
        return result;
    }

    private static Double lagSeconds(InstanceObservation standby, InstanceObservation.Replica r, Long lagBytes) {
        if (r != null && r.replayLagSeconds() != null) {
            return r.replayLagSeconds();
        }
        if (lagBytes != null && lagBytes == 0) {
            // pg_stat_replication clears the lag columns once a standby caught up and WAL went idle
            return 0.0;
        }
        return standby.replayDelaySeconds();
    }

    /** Whether two instance lists differ in more than WAL positions and lag. */
    public static boolean meaningfullyDifferent(List<TopologyStatus.Instance> a, List<TopologyStatus.Instance> b) {
        if (a == null || b == null) {
            return a != b;
        }
        if (a.size() != b.size()) {
            return true;
        }
        for (int k = 0; k < a.size(); k++) {
            TopologyStatus.Instance x = a.get(k);
            TopologyStatus.Instance y = b.get(k);
            if (!Objects.equals(x.name, y.name) || !Objects.equals(x.role, y.role) || !Objects.equals(x.healthy, y.healthy)
                    || !Objects.equals(x.timeline, y.timeline) || !Objects.equals(x.syncState, y.syncState)) {
                return true;
            }
        }
        return false;
    }

    private static String str(Lsn lsn) {
        return lsn == null ? null : lsn.toString();
    }
}
