package io.pgha.router.service;

import io.pgha.router.proxy.TestCluster;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;

import java.util.Map;

/** Points the Quarkus-booted router at the shared test servers. */
public class ClusterResource implements QuarkusTestResourceLifecycleManager {
    @Override
    public Map<String, String> start() {
        TestCluster c = TestCluster.get();
        return Map.of(
                "pgha.router.topology.primary", "127.0.0.1:" + c.primary.port(),
                "pgha.router.topology.standbys", "127.0.0.1:" + c.standby.port(),
                "pgha.router.auth.user", TestCluster.AUTH_USER,
                "pgha.router.auth.password", TestCluster.AUTH_PASSWORD);
    }

    @Override
    public void stop() {
        // the shared servers stop with the JVM
    }
}
