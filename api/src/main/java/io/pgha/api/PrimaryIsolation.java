package io.pgha.api;

import java.time.Duration;

/**
 * How fast a primary cut off from the Kubernetes API server stops taking writes, and how long the
 * monitor therefore waits before it promotes another instance when it cannot confirm that the old
 * primary stopped. The numbers the instance pods run with (their liveness probe, the environment of
 * their bootstrap script) and the monitor's wait are all taken from here, so they cannot drift apart.
 *
 * <p>The instance's liveness check ({@code bootstrap.sh live}) proves API access on a primary by an
 * authenticated GET of its own pod. The first failed proof starts the isolation clock (at the start
 * of that check); the first check that fails once {@link #ISOLATION_SECONDS} have passed stops the
 * server at once ({@code pg_ctl stop -m immediate}: every backend ends, no new connection is
 * accepted). From the moment the API server became unreachable:
 *
 * <pre>
 *   at most PROBE_PERIOD        until the next check starts (the one before may just have passed)
 * + ISOLATION_SECONDS           the clock
 * + at most PROBE_PERIOD        checks run only every period
 * + at most REQUEST_TIMEOUT     the failing check's own request
 * + at most STOP_TIMEOUT        pg_ctl stop -m immediate
 * = {@link #selfFenceBound()}
 * </pre>
 *
 * (a check finishes within its period: the request is limited to {@link #REQUEST_TIMEOUT_SECONDS},
 * less than {@link #PROBE_PERIOD_SECONDS}). The monitor promotes only after fencing the old
 * primary. On Kubernetes, when that primary neither answers nor has its pod deletion confirmed by
 * its kubelet (a node cut off confirms nothing), the monitor waits {@link #unconfirmedFenceWait()}
 * after requesting the deletion: by then an isolated primary has stopped itself, whatever the
 * failure detection ({@code failureThreshold} x {@code checkIntervalMillis}) took before.
 */
public final class PrimaryIsolation {
    /** {@code PGHA_ISOLATION_SECONDS}: how long a primary may fail to prove API access. Long enough to ride out an API server restart. */
    public static final int ISOLATION_SECONDS = 20;
    /** The instance's liveness probe period: how often the proof is tried. */
    public static final int PROBE_PERIOD_SECONDS = 5;
    /** {@code PGHA_API_TIMEOUT_SECONDS}: the limit on one request to the API server. */
    public static final int REQUEST_TIMEOUT_SECONDS = 3;
    /** {@code PGHA_STOP_SECONDS}: how long the check waits for {@code pg_ctl stop -m immediate}. */
    public static final int STOP_TIMEOUT_SECONDS = 5;
    /** The liveness probe's own timeout: a request, the local checks and a stop fit in it. */
    public static final int PROBE_TIMEOUT_SECONDS = REQUEST_TIMEOUT_SECONDS + STOP_TIMEOUT_SECONDS + 2;
    /**
     * Failed liveness checks before the kubelet restarts the container. Not part of the bound: the
     * check stops the server itself; the kubelet's restart is the fallback when that stop fails,
     * and a single slow answer must not restart a healthy primary.
     */
    public static final int PROBE_FAILURE_THRESHOLD = 3;
    /** Slack for clocks and scheduling between the instance's checks and the monitor's wait. */
    static final Duration MARGIN = Duration.ofSeconds(2);

    private PrimaryIsolation() {
    }

    /** The longest time from losing the API server until an isolated primary's server has stopped. */
    public static Duration selfFenceBound() {
        return Duration.ofSeconds(PROBE_PERIOD_SECONDS + ISOLATION_SECONDS + PROBE_PERIOD_SECONDS + REQUEST_TIMEOUT_SECONDS
                + STOP_TIMEOUT_SECONDS);
    }

    /** How long the monitor waits, after requesting an unanswering primary's pod deletion, for the kubelet to confirm it before it promotes anyway. */
    public static Duration unconfirmedFenceWait() {
        return selfFenceBound().plus(MARGIN);
    }

    /**
     * The earliest moment, counted from when the primary became unreachable for both the monitor
     * and the API server, at which a monitor with these settings can promote another instance
     * without confirmation from the old primary's kubelet: the consecutive failed checks (the
     * first may come right after the loss), then the wait.
     */
    public static Duration earliestUnconfirmedPromotion(int failureThreshold, Duration checkInterval) {
        return checkInterval.multipliedBy(Math.max(0, failureThreshold - 1)).plus(unconfirmedFenceWait());
    }
}
