package io.pgha.monitor.service;

import io.pgha.monitor.core.LeaseTerm;

import java.util.Optional;

/**
 * The lock that elects the one acting monitor of a cluster: a lock file with expiry locally, a
 * {@code coordination.k8s.io/v1} Lease on Kubernetes. {@link LeaderElector} decides from it
 * whether this monitor may act.
 */
public interface Lease {
    /**
     * Renews the lease when this identity holds it, takes it when it expired or nobody holds it.
     * Returns the term this identity holds it under now; empty when it does not hold it (a write
     * that lost a race is a plain empty). Another holder's lease counts as expired only once this
     * monitor has seen no renewal of it for the lease duration on its own monotonic clock.
     */
    Optional<LeaseTerm> tryAcquireOrRenew();

    /** The current unexpired holder, if any. */
    Optional<String> holder();

    /** Gives the lease up at once if this identity holds it, so another can take it without waiting. */
    void release();
}
