package io.pgha.router.topology;

/**
 * What the router's own polling found of a standby ({@link StandbyHealth}): whether it is healthy
 * and how far its replay lags behind the primary, in bytes of WAL. Unhealthy or too far behind
 * standbys get no reads.
 */
public record StandbyState(boolean healthy, long lagBytes) {
}
