package io.pgha.router.topology;

/**
 * What is known about a standby: whether it is healthy and how far its replay lags behind the
 * primary, in bytes of WAL. Unhealthy or too far behind standbys get no reads. Comes from a
 * {@link TopologySource} (a platform that knows it) and from the router's own polling
 * ({@link StandbyHealth}).
 */
public record StandbyState(boolean healthy, long lagBytes) {
    /** Nothing known: assumed healthy and current. */
    public static final StandbyState UNKNOWN = new StandbyState(true, 0);
}
