package io.pgha.monitor.service;

import io.pgha.api.v1.cluster.PostgresCluster;
import io.pgha.api.v1.cluster.PostgresClusterStatus;

import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * Where the monitor finds the clusters it watches and writes its part of their status: the
 * topology and its own conditions, never what the provisioner owns.
 */
public interface ClusterSource {
    /** The clusters this monitor watches. */
    List<PostgresCluster> list();

    /** The cluster as it is now (never a cached copy older than the monitor's own last write). */
    Optional<PostgresCluster> get(String namespace, String name);

    /**
     * Applies {@code change} to the status as it is now and writes the topology and the
     * conditions back, leaving the rest of the status as it is then. Returns the cluster after
     * the write, or empty when it does not exist.
     */
    Optional<PostgresCluster> updateStatus(String namespace, String name, Consumer<PostgresClusterStatus> change);
}
