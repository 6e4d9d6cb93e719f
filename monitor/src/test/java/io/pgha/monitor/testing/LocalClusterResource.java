package io.pgha.monitor.testing;

import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;

import java.util.Map;

/**
 * Starts a two-instance asynchronous cluster before the Quarkus application boots and points the
 * application's state directory and port base at it.
 */
public class LocalClusterResource implements QuarkusTestResourceLifecycleManager {
    public static volatile LocalCluster cluster;

    @Override
    public Map<String, String> start() {
        try {
            cluster = LocalCluster.start(2, false, 3, 300);
        } catch (Exception e) {
            throw new IllegalStateException("cannot start the test cluster", e);
        }
        return Map.of("pgha.home", cluster.layout().home().toString(),
                "pgha.port-base", Integer.toString(cluster.layout().portBase()),
                "pgha.monitor.identity", "quarkus-test-monitor",
                "pgha.monitor.lease-duration", "3s");
    }

    @Override
    public void stop() {
        try {
            if (cluster != null) {
                cluster.close();
            }
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
