package io.pgha.provisioner.local;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.pgha.api.ClusterNames;
import io.pgha.api.v1.Condition;
import io.pgha.api.v1.cluster.PostgresCluster;
import io.pgha.api.v1.cluster.TopologyStatus;
import io.pgha.local.LocalLayout;
import io.pgha.local.LocalSecrets;
import io.pgha.local.Ports;
import io.pgha.provisioner.model.InstanceFacts;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * {@code pgha status --json}: the cluster as it is right now. Roles, PIDs, health and lag are
 * looked up live rather than taken from the status, so that a crash shows at once.
 */
public final class StatusView {
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Instance(String name, String role, String host, int port, Long pid, boolean healthy, Long lagBytes,
                           Integer timeline) {
    }

    public record Router(String host, int port, int rwPort) {
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Cluster(String name, String phase, String message, String currentPrimary, List<Instance> instances,
                          Router router, List<Condition> conditions) {
    }

    private StatusView() {
    }

    public static Cluster of(PostgresCluster cluster, LocalLayout layout, LocalSecrets secrets) {
        String name = cluster.getMetadata().getName();
        var status = cluster.getStatus();
        String primary = status == null || status.topology == null ? null : status.topology.currentPrimary;
        List<Instance> list = new ArrayList<>();
        Optional<LocalSecrets.Credentials> superuser = secrets.get(ClusterNames.superuserSecret(name));
        InstanceFacts primaryFacts = null;
        List<InstanceFacts> all = new ArrayList<>();
        if (status != null && status.provisioning != null && superuser.isPresent()) {
            // asked rarely (pgha status), so its connections last for this one answer
            try (KeptConnections connections = new KeptConnections()) {
                for (var i : status.provisioning.instances) {
                    InstanceFacts f = InstanceProbe.look(i.name, layout.dataDir(i.name), layout.instancePort(i.serial), superuser.get(),
                            connections);
                    all.add(f);
                    if (Boolean.FALSE.equals(f.inRecovery())) {
                        primaryFacts = f;
                    }
                }
            }
            for (var i : status.provisioning.instances) {
                InstanceFacts f = all.stream().filter(x -> x.name().equals(i.name)).findFirst().orElseThrow();
                String role = f.inRecovery() != null
                        ? (f.inRecovery() ? TopologyStatus.ROLE_STANDBY : TopologyStatus.ROLE_PRIMARY)
                        : (i.name.equals(primary) ? TopologyStatus.ROLE_PRIMARY : TopologyStatus.ROLE_STANDBY);
                Long lag = TopologyStatus.ROLE_PRIMARY.equals(role) ? Long.valueOf(0)
                        : primaryFacts == null ? null : primaryFacts.lagBytes().get(i.name);
                list.add(new Instance(i.name, role, LocalLayout.HOST, layout.instancePort(i.serial), f.pid(),
                        f.reachable(), lag, f.wal() == null ? null : f.wal().timeline()));
            }
        }
        // the router exists once its read/write-split port answers
        Router router = Ports.isFree(layout.routerPort()) ? null
                : new Router(LocalLayout.HOST, layout.routerPort(), layout.routerReadWritePort());
        return new Cluster(name, status == null ? null : status.phase,
                status == null || status.provisioning == null ? null : status.provisioning.message,
                primary, list, router, status == null ? List.of() : status.conditions);
    }

    /** A table for people. */
    public static String render(Cluster c) {
        StringBuilder out = new StringBuilder();
        out.append("cluster ").append(c.name()).append(": ").append(c.phase()).append(" (").append(c.message()).append(")\n");
        out.append(String.format("%-12s %-8s %-16s %-8s %-8s %s%n", "INSTANCE", "ROLE", "ADDRESS", "PID", "HEALTHY", "LAG"));
        for (Instance i : c.instances()) {
            out.append(String.format("%-12s %-8s %-16s %-8s %-8s %s%n", i.name(), i.role(), i.host() + ":" + i.port(),
                    i.pid() == null ? "-" : i.pid(), i.healthy() ? "yes" : "NO", i.lagBytes() == null ? "-" : i.lagBytes() + " B"));
        }
        if (c.router() != null) {
            out.append("router: ").append(c.router().host()).append(':').append(c.router().port())
                    .append(" (read/write split), ").append(c.router().host()).append(':').append(c.router().rwPort())
                    .append(" (read-write)\n");
        }
        return out.toString();
    }
}
