package io.pgha.monitor.service;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.HealthCheckResponseBuilder;
import org.eclipse.microprofile.health.Readiness;

import java.util.List;

/** Ready once started, with or without a cluster to watch; says which clusters and whether it leads any. */
@Readiness
@ApplicationScoped
public class MonitorHealth implements HealthCheck {
    @Inject
    MonitorService service;

    @Override
    public HealthCheckResponse call() {
        HealthCheckResponseBuilder b = HealthCheckResponse.named("pgha-monitor").up();
        List<ClusterMonitor> monitors = service.monitors();
        if (monitors.isEmpty()) {
            b.withData("cluster", "none yet");
            return b.build();
        }
        b.withData("cluster", String.join(", ", monitors.stream().map(m -> m.namespace() + "/" + m.name()).toList()));
        // replicas of the monitor may lead different clusters: whether this one leads any
        b.withData("leader", monitors.stream().anyMatch(ClusterMonitor::isLeader));
        return b.build();
    }
}
