package io.pgha.monitor.service;

import io.pgha.api.v1.cluster.PostgresCluster;
import io.pgha.api.v1.cluster.PostgresClusterStatus;
import io.pgha.api.v1.cluster.TopologyStatus;
import io.pgha.monitor.core.LeaseTerm;

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
     * Applies {@code change} to the status as it is now and writes the topology (recording
     * {@code term} in it) and the conditions back, leaving the rest of the status as it is then.
     * Returns the cluster after the write, or empty when it does not exist.
     *
     * <p>The write is conditional on the lease: it is refused with {@link LeaseLostException},
     * and nothing is written, when the status was already written under a newer term
     * ({@link LeaseTerm#mayWrite}), and, where the platform can check it in the same atomic
     * step, when the lease no longer names {@code term}.
     */
    Optional<PostgresCluster> updateStatus(String namespace, String name, LeaseTerm term,
                                           Consumer<PostgresClusterStatus> change);

    /**
     * Applies {@code change} to {@code status} as a write under {@code term}: refused when the
     * status was written under a newer term, otherwise the change and then the term are recorded.
     */
    static void changeUnder(LeaseTerm term, PostgresClusterStatus status, Consumer<PostgresClusterStatus> change) {
        LeaseTerm recorded = LeaseTerm.of(status.topology);
        if (!LeaseTerm.mayWrite(recorded, term)) {
            throw new LeaseLostException("the status was written under term " + recorded + ", newer than this monitor's "
                    + term);
        }
        change.accept(status);
        if (status.topology == null) {
            status.topology = new TopologyStatus();
        }
        status.topology.term = term.toStatus();
    }

    /** A status write refused because the monitor no longer holds the lease it was made under. */
    final class LeaseLostException extends RuntimeException {
        public LeaseLostException(String message) {
            super(message);
        }
    }
}
