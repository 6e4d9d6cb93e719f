package io.pgha.monitor.service;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.HealthCheckResponseBuilder;
import org.eclipse.microprofile.health.Readiness;

/** Ready once started, with or without a cluster to watch; says which cluster and whether it leads. */
@Readiness
@ApplicationScoped
public class MonitorHealth implements HealthCheck {
    @Inject
    MonitorService service;

    @Override
    public HealthCheckResponse call() {
        HealthCheckResponseBuilder b = HealthCheckResponse.named("pgha-monitor").up();
        service.monitor().ifPresentOrElse(m -> b.withData("cluster", m.namespace() + "/" + m.name())
                .withData("leader", m.isLeader()), () -> b.withData("cluster", "none yet"));
        return b.build();
    }
}
