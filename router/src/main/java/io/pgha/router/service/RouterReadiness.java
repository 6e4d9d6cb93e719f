package io.pgha.router.service;

import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

/** Ready once both listeners accept connections. */
@Readiness
@ApplicationScoped
public class RouterReadiness implements HealthCheck {
    @Inject
    RouterService service;

    @Override
    public HealthCheckResponse call() {
        boolean up = service.router() != null;
        return HealthCheckResponse.named("pgha-router").status(up)
                .withData("port", service.port()).withData("rwPort", service.rwPort())
                .withData("clients", up ? service.router().clientCount() : 0).build();
    }
}
