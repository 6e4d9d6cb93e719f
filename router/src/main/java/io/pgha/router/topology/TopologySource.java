package io.pgha.router.topology;

/**
 * Where the router learns the current primary and standbys. Read on every server choice, so an
 * implementation must answer cheaply (keep the latest value, refresh it elsewhere). A primary
 * change becomes visible to new transactions at once; clients do not reconnect.
 */
public interface TopologySource {
    Topology current();
}
