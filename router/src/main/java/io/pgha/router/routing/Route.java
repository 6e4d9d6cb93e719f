package io.pgha.router.routing;

/** Where a statement may run. */
public enum Route {
    /** Only reads: any healthy standby within the lag limit, or the primary. */
    STANDBY_OK,
    /** Needs the primary. */
    PRIMARY
}
