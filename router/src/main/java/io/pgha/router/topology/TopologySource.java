package io.pgha.router.topology;

import io.pgha.api.v1.cluster.RouterSpec;

import java.util.Optional;

/**
 * Where the router learns the current primary and standbys. Read on every server choice, so an
 * implementation must answer cheaply (keep the latest value, refresh it elsewhere). A primary
 * change becomes visible to new transactions at once; clients do not reconnect.
 */
public interface TopologySource {
    Topology current();

    /**
     * The cluster's {@code spec.router} when the source follows a cluster object (local store,
     * Kubernetes), read as cheaply as {@link #current()}; empty for a source without one, whose
     * router keeps its configured settings.
     */
    default Optional<RouterSpec> routerSpec() {
        return Optional.empty();
    }
}
