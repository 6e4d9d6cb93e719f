package io.pgha.router.topology;

/**
 * What the cluster status says about a standby: whether it is healthy and how far its replay
 * lags behind the primary, in bytes of WAL. Unhealthy or too far behind standbys get no reads.
 */
public record StandbyState(boolean healthy, long lagBytes) {
    /** Nothing known: assumed healthy and current. */
    public static final StandbyState UNKNOWN = new StandbyState(true, 0);
}
