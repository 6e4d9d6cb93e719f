package io.pgha.provisioner.kubernetes;

import io.javaoperatorsdk.operator.Operator;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.enterprise.inject.Instance;
import jakarta.inject.Inject;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

/**
 * Starts the operator when {@code pgha.platform=kubernetes}. The extension's own start is off
 * ({@code quarkus.operator-sdk.start-operator=false}) and its startup listener, which made the
 * operator anyway, is left out (application.properties), so in local mode no operator, informer or
 * Kubernetes client is ever created (LocalStartTest).
 */
@ApplicationScoped
public class KubernetesRuntime {
    public static final String PLATFORM = "kubernetes";
    private static final Logger LOG = Logger.getLogger(KubernetesRuntime.class);

    @ConfigProperty(name = "pgha.platform", defaultValue = "local")
    String platform;

    @Inject
    Instance<Operator> operator;

    private volatile boolean started;

    void onStart(@Observes StartupEvent event) {
        if (!active()) {
            return;
        }
        LOG.info("kubernetes platform: starting the PostgresCluster operator");
        operator.get().start();
        started = true;
    }

    public boolean active() {
        return PLATFORM.equals(platform);
    }

    /** Whether the operator runs and every informer is healthy (always true on the local platform). */
    public boolean healthy() {
        if (!active()) {
            return true;
        }
        return started && operator.get().getRuntimeInfo().isStarted()
                && operator.get().getRuntimeInfo().allEventSourcesAreHealthy();
    }
}
