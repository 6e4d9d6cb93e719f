package io.pgha.router.routing;

/** Where the split listener sends transactions the classifier lets a standby run. */
public enum ReadPolicy {
    /** To a healthy standby within the lag limit, else to the primary. */
    STANDBY,
    /** Spread over the primary and the eligible standbys in turn. */
    ANY,
    /** To the primary: nothing is split off. */
    PRIMARY
}
