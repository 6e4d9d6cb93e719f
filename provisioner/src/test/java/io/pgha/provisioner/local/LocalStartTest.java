package io.pgha.provisioner.local;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.javaoperatorsdk.operator.Operator;
import io.javaoperatorsdk.operator.api.config.ConfigurationService;
import io.quarkus.arc.Arc;
import io.quarkus.arc.InjectableBean;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Singleton;
import org.junit.jupiter.api.Test;

import java.lang.reflect.Type;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A provisioner started on the local platform makes no operator, nor its configuration, which
 * holds the operator's Kubernetes client: nothing there talks to an API server, and making them
 * cost each start 0.06-0.1 s (the client reads the JDK's CA bundle) while a restore waited.
 */
@QuarkusTest
@TestProfile(LocalControlGuardTest.StateDirectory.class)
class LocalStartTest {
    @Test
    void noOperatorAndNoKubernetesClientAreMade() {
        List<String> made = new ArrayList<>();
        for (Class<? extends java.lang.annotation.Annotation> scope : List.of(Singleton.class, ApplicationScoped.class)) {
            for (InjectableBean<?> bean : Arc.container().getActiveContext(scope).getState().getContextualInstances().keySet()) {
                for (Type type : bean.getTypes()) {
                    if (type == ConfigurationService.class || type == Operator.class || type == KubernetesClient.class) {
                        made.add(type.getTypeName());
                    }
                }
            }
        }
        assertEquals(List.of(), made);
    }
}
