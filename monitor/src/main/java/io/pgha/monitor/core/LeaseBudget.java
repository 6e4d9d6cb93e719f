package io.pgha.monitor.core;

import java.time.Duration;
import java.util.Optional;

/**
 * How long an external step (freeze, promote, re-point, ...) may take under the lease: never
 * longer than the lease's remaining validity as the holder sees it on its monotonic clock, so the
 * step is over before any other monitor can take the lease (another monitor waits at least the
 * whole lease duration without seeing a renewal, and the holder's validity already ends a margin
 * before that). A step shortened below {@link #MINIMUM_STEP} is not worth starting: the caller
 * renews the lease first, and gives up if that does not help. Pure.
 */
public final class LeaseBudget {
    /**
     * The shortest step worth starting: {@code pg_promote} waits in whole seconds, and a step
     * that has less than this left would time out on a healthy server.
     */
    public static final Duration MINIMUM_STEP = Duration.ofSeconds(1);

    private LeaseBudget() {
    }

    /**
     * The timeout to give a step that would like {@code wanted}, with {@code remaining} of the
     * lease left; empty when less than {@link #MINIMUM_STEP} is left.
     */
    public static Optional<Duration> stepTimeout(Duration remaining, Duration wanted) {
        if (remaining.compareTo(MINIMUM_STEP) < 0) {
            return Optional.empty();
        }
        return Optional.of(remaining.compareTo(wanted) < 0 ? remaining : wanted);
    }
}
