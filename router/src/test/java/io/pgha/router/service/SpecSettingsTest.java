package io.pgha.router.service;

import io.pgha.api.v1.cluster.RouterSpec;
import io.pgha.router.pool.PoolMode;
import io.pgha.router.routing.ReadPolicy;
import io.pgha.router.proxy.RouterSettings;
import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;

class SpecSettingsTest {
    @Test
    void theSpecSetsItsFieldsAndTheRestKeepsTheConfiguredValues() {
        RouterSettings configured = RouterSettings.defaults().withWaitTimeout(Duration.ofSeconds(7));
        RouterSpec spec = new RouterSpec();
        spec.poolMode = RouterSpec.PoolMode.SESSION;
        spec.poolSize = 3;
        spec.maxClientConnections = 4;
        spec.readPolicy = RouterSpec.ReadPolicy.ANY;
        spec.maxReplicaLagBytes = 5;
        spec.readYourWrites = false;
        RouterSettings s = SpecSettings.apply(configured, spec);
        assertEquals(configured.withPoolMode(PoolMode.SESSION).withPoolSize(3).withMaxClientConnections(4)
                .withReadPolicy(ReadPolicy.ANY).withMaxReplicaLagBytes(5).withReadYourWrites(false), s);
    }

    @Test
    void aDefaultSpecGivesTheDocumentedDefaults() {
        assertEquals(RouterSettings.defaults(), SpecSettings.apply(RouterSettings.defaults(), new RouterSpec()));
    }

    @Test
    void everyReadPolicyMaps() {
        for (RouterSpec.ReadPolicy p : RouterSpec.ReadPolicy.values()) {
            RouterSpec spec = new RouterSpec();
            spec.readPolicy = p;
            assertEquals(p.name(), SpecSettings.apply(RouterSettings.defaults(), spec).readPolicy().name());
        }
    }
}
