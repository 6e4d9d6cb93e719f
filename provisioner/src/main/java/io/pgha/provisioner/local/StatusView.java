package io.pgha.provisioner.local;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.pgha.api.ClusterNames;
import io.pgha.api.v1.Condition;
import io.pgha.api.v1.cluster.BackupStatus;
import io.pgha.api.v1.cluster.PostgresCluster;
import io.pgha.api.v1.cluster.TopologyStatus;
import io.pgha.local.LocalLayout;
import io.pgha.local.LocalSecrets;
import io.pgha.local.Ports;
import io.pgha.provisioner.model.InstanceFacts;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * {@code pgha status}: the cluster as it is right now. Roles, PIDs, health, timelines, lag in bytes
 * and who streams from whom are looked up live rather than taken from the status, so that a crash
 * shows at once; the monitor's view (sync state, lag in seconds, fenced instances, its lease term,
 * the last promotion) and the backup service's come from the status they keep.
 */
public final class StatusView {
    /**
     * One instance. {@code upstream}: the primary a standby streams from (null when it does not);
     * {@code syncState}: async, quorum, sync or potential as the primary's pg_stat_replication said
     * at the monitor's last check; {@code restartPending}: the settings waiting for a restart, or
     * "requested" after pgha restart (empty when none).
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Instance(String name, String role, String host, int port, Long pid, boolean healthy, Long lagBytes,
                           Integer timeline, String upstream, String syncState, Double lagSeconds, boolean fenced,
                           List<String> restartPending) {
    }

    public record Router(String host, int port, int rwPort) {
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Cluster(String name, String phase, String message, String currentPrimary, List<Instance> instances,
                          Router router, List<Condition> conditions, TopologyStatus.LeaseTerm monitorLeader,
                          TopologyStatus.Promotion lastPromotion, BackupStatus backup) {
    }

    /** What restartPending says for a restart asked for with pgha restart. */
    static final String RESTART_REQUESTED = "requested";

    private StatusView() {
    }

    public static Cluster of(PostgresCluster cluster, LocalLayout layout, LocalSecrets secrets, Map<String, Instant> restartRequests,
                             KeptConnections connections) {
        String name = cluster.getMetadata().getName();
        var status = cluster.getStatus();
        TopologyStatus topology = status == null || status.topology == null ? new TopologyStatus() : status.topology;
        String primary = topology.currentPrimary;
        List<Instance> list = new ArrayList<>();
        Optional<LocalSecrets.Credentials> superuser = secrets.get(ClusterNames.superuserSecret(name));
        if (status != null && status.provisioning != null && superuser.isPresent()) {
            InstanceFacts primaryFacts = null;
            List<InstanceFacts> all = new ArrayList<>();
            List<Optional<InstanceProbe.RestartState>> restarts = new ArrayList<>();
            for (var i : status.provisioning.instances) {
                int port = layout.instancePort(i.serial);
                InstanceFacts f = InstanceProbe.look(i.name, layout.dataDir(i.name), port, superuser.get(), connections);
                all.add(f);
                restarts.add(f.reachable() ? InstanceProbe.restartState(port, superuser.get(), connections) : Optional.empty());
                if (Boolean.FALSE.equals(f.inRecovery())) {
                    primaryFacts = f;
                }
            }
            for (int k = 0; k < status.provisioning.instances.size(); k++) {
                var i = status.provisioning.instances.get(k);
                InstanceFacts f = all.get(k);
                String role = f.inRecovery() != null
                        ? (f.inRecovery() ? TopologyStatus.ROLE_STANDBY : TopologyStatus.ROLE_PRIMARY)
                        : (i.name.equals(primary) ? TopologyStatus.ROLE_PRIMARY : TopologyStatus.ROLE_STANDBY);
                boolean isPrimary = TopologyStatus.ROLE_PRIMARY.equals(role);
                Long lag = isPrimary ? Long.valueOf(0) : primaryFacts == null ? null : primaryFacts.lagBytes().get(i.name);
                String upstream = !isPrimary && primaryFacts != null && primaryFacts.streaming().contains(i.name)
                        ? primaryFacts.name() : null;
                Optional<TopologyStatus.Instance> seen = topology.instance(i.name);
                Instant requested = restartRequests.get(i.name);
                List<String> pending = restarts.get(k).map(r -> {
                    List<String> p = new ArrayList<>(r.pending());
                    if (p.isEmpty() && r.due(requested)) {
                        p.add(RESTART_REQUESTED);
                    }
                    return p;
                }).orElse(List.of());
                list.add(new Instance(i.name, role, LocalLayout.HOST, layout.instancePort(i.serial), f.pid(), f.reachable(), lag,
                        f.wal() == null ? seen.map(x -> x.timeline).orElse(null) : Integer.valueOf(f.wal().timeline()),
                        upstream, isPrimary ? null : seen.map(x -> x.syncState).orElse(null),
                        isPrimary ? null : seen.map(x -> x.lagSeconds).orElse(null), topology.fenced.contains(i.name), pending));
            }
        }
        // the router exists once its read/write-split port answers
        Router router = Ports.isFree(layout.routerPort()) ? null
                : new Router(LocalLayout.HOST, layout.routerPort(), layout.routerReadWritePort());
        TopologyStatus.Promotion last = topology.history.isEmpty() ? null : topology.history.get(topology.history.size() - 1);
        return new Cluster(name, status == null ? null : status.phase,
                status == null || status.provisioning == null ? null : status.provisioning.message,
                primary, list, router, status == null ? List.of() : status.conditions, topology.term, last,
                status == null ? null : status.backup);
    }

    /** A table for people, then one line each for the monitor, the last promotion, backups and archiving. */
    public static String render(Cluster c) {
        StringBuilder out = new StringBuilder();
        out.append("cluster ").append(c.name()).append(": ").append(c.phase()).append(" (").append(c.message()).append(")\n");
        String row = "%-12s %-8s %-16s %-8s %-8s %-3s %-30s %-10s %-7s %s%n";
        out.append(String.format(row, "INSTANCE", "ROLE", "ADDRESS", "PID", "HEALTHY", "TL", "REPLICATION", "LAG", "LAG(s)", "NOTES"));
        for (Instance i : c.instances()) {
            List<String> notes = new ArrayList<>();
            if (i.fenced()) {
                notes.add("fenced");
            }
            if (!i.restartPending().isEmpty()) {
                notes.add("restart pending (" + String.join(", ", i.restartPending()) + ")");
            }
            out.append(String.format(row, i.name(), i.role(), i.host() + ":" + i.port(), i.pid() == null ? "-" : i.pid(),
                    i.healthy() ? "yes" : "NO", i.timeline() == null ? "-" : i.timeline(), replication(i),
                    i.lagBytes() == null ? "-" : i.lagBytes() + " B",
                    i.lagSeconds() == null ? "-" : String.format("%.1f", i.lagSeconds()),
                    notes.isEmpty() ? "-" : String.join("; ", notes)).stripTrailing()).append('\n');
        }
        if (c.router() != null) {
            out.append("router: ").append(c.router().host()).append(':').append(c.router().port())
                    .append(" (read/write split), ").append(c.router().host()).append(':').append(c.router().rwPort())
                    .append(" (read-write)\n");
        }
        out.append("monitor leader: ").append(c.monitorLeader() == null || c.monitorLeader().holder == null ? "none recorded yet"
                : c.monitorLeader().holder + " (term " + c.monitorLeader().counter + ")").append('\n');
        TopologyStatus.Promotion p = c.lastPromotion();
        out.append("last failover or switchover: ").append(p == null ? "none" : p.kind + " " + p.from + " -> " + p.to
                + " at " + p.finishedAt + " (timeline " + p.timeline + ")").append('\n');
        BackupStatus b = c.backup();
        if (b != null && (b.lastSuccessfulBackup != null || b.lastArchivedWal != null || b.lastFailedWal != null)) {
            out.append("backups: last successful ").append(b.lastSuccessfulBackup == null ? "none" : b.lastSuccessfulBackup)
                    .append(", recoverable from ").append(b.firstRecoverabilityPoint == null ? "-" : b.firstRecoverabilityPoint).append('\n');
            out.append("WAL archive: last archived ").append(b.lastArchivedWal == null ? "none" : b.lastArchivedWal + " at " + b.lastArchivedTime);
            if (b.lastFailedWal != null && b.lastFailedTime != null && (b.lastArchivedTime == null || b.lastFailedTime.compareTo(b.lastArchivedTime) > 0)) {
                out.append(", FAILING since ").append(b.lastFailedWal).append(" at ").append(b.lastFailedTime);
            }
            out.append('\n');
        }
        return out.toString();
    }

    /** "streaming from pg-1 (quorum)" for a standby, "-" for the primary, "NOT streaming" for a standby that does not. */
    private static String replication(Instance i) {
        if (TopologyStatus.ROLE_PRIMARY.equals(i.role())) {
            return "-";
        }
        if (i.upstream() == null) {
            return "NOT streaming";
        }
        return "streaming from " + i.upstream() + " (" + (i.syncState() == null ? "?" : i.syncState()) + ")";
    }
}
