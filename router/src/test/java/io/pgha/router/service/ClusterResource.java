package io.pgha.router.service;

import io.pgha.router.proxy.ReplicatedPair;
import io.pgha.router.proxy.TestCluster;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Map;

/**
 * Points the Quarkus-booted router at a real primary and streaming standby of its own: the
 * router polls its standbys, and a server that is not in recovery would get no reads.
 */
public class ClusterResource implements QuarkusTestResourceLifecycleManager {
    private ReplicatedPair pair;

    @Override
    public Map<String, String> start() {
        try {
            pair = ReplicatedPair.start();
        } catch (Exception e) {
            throw new IllegalStateException("cannot start the replicated pair", e);
        }
        return Map.of(
                "pgha.router.topology.primary", "127.0.0.1:" + pair.primary.port(),
                "pgha.router.topology.standbys", "127.0.0.1:" + pair.standbyPort,
                "pgha.router.auth.user", TestCluster.AUTH_USER,
                "pgha.router.auth.password", TestCluster.AUTH_PASSWORD);
    }

    @Override
    public void stop() {
        try {
            pair.close();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
