package io.pgha.provisioner.kubernetes;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;

/** Ready on the kubernetes platform once the operator and its informers run. */
@Readiness
@ApplicationScoped
public class KubernetesReadiness implements HealthCheck {
    @Inject
    KubernetesRuntime runtime;

    @Override
    public HealthCheckResponse call() {
        return HealthCheckResponse.named("pgha-operator").status(runtime.healthy())
                .withData("platform", runtime.active() ? KubernetesRuntime.PLATFORM : "local").build();
    }
}
