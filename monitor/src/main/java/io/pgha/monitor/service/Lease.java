package io.pgha.monitor.service;

import java.util.Optional;

/**
 * The lock that elects the one acting monitor of a cluster: a lock file with expiry locally, a
 * {@code coordination.k8s.io/v1} Lease on Kubernetes. {@link LeaderElector} decides from it
 * whether this monitor may act.
 */
public interface Lease {
    /**
     * Renews the lease when this identity holds it, takes it when it expired or nobody holds it.
     * Returns whether this identity holds it now; a write that lost a race is a plain false.
     */
    boolean tryAcquireOrRenew();

    /** The current unexpired holder, if any. */
    Optional<String> holder();

    /** Gives the lease up at once if this identity holds it, so another can take it without waiting. */
    void release();
}
