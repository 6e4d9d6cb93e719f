package io.pgha.router.topology;

import java.time.Duration;

/**
 * Turns what the router's own polling saw of a standby into a {@link StandbyState}. Pure: the
 * tracker gathers the samples, this decides.
 *
 * <p>A standby is healthy when its last poll answered with a replay position and no poll has
 * been waiting for an answer longer than {@link #ANSWER_TIMEOUT}. A failed poll (connection
 * refused or lost, query error) or a NULL replay position (the server is not in recovery, so it
 * is no standby) makes it unhealthy at once; the next good answer makes it healthy again, with
 * no hysteresis, so a flapping standby follows its latest poll.
 */
public final class StandbyHealth {
    /**
     * How long a poll may go unanswered before the standby counts as unhealthy. A stopped or
     * crashed server refuses or resets the connection, which fails the poll at once; this only
     * catches a server that hangs (frozen, partitioned without a reset). At 50 ms polls, 1 s is
     * twenty missed answers: long enough that a loaded two-core machine or a GC pause does not
     * flap a healthy standby, short enough to stay well inside the 2 s in which a stopped
     * standby must lose its reads.
     */
    public static final Duration ANSWER_TIMEOUT = Duration.ofSeconds(1);

    /** No replay position known: not asked yet, the poll failed, or the server is not in recovery. */
    public static final long UNKNOWN = -1;

    private StandbyHealth() {
    }

    /**
     * What one standby's polling saw.
     *
     * @param replayed the replay position of the last answer, or {@link #UNKNOWN} if the last poll
     *        failed, returned NULL or none has answered yet
     * @param waitingSince {@link System#nanoTime()} when the poll now in flight was sent, or
     *        {@link Long#MIN_VALUE} when none is in flight
     */
    public record Sample(long replayed, long waitingSince) {
        public static final long NOT_WAITING = Long.MIN_VALUE;
    }

    /**
     * The standby's state at {@code now}.
     *
     * @param primary the primary's current WAL position as last polled, or {@link #UNKNOWN}
     */
    public static StandbyState state(Sample sample, long primary, long now, Duration answerTimeout) {
        boolean answering = sample.waitingSince() == Sample.NOT_WAITING || now - sample.waitingSince() <= answerTimeout.toNanos();
        return new StandbyState(answering && sample.replayed() != UNKNOWN, lag(primary, sample.replayed()));
    }

    /**
     * Bytes of WAL the standby has yet to replay. Unknown positions give 0: with the primary not
     * polled yet (the router just started, or the primary changed) lag cannot be judged, and
     * health alone decides. A standby seen ahead of the primary was simply polled after it and is
     * current.
     */
    static long lag(long primary, long replayed) {
        if (primary == UNKNOWN || replayed == UNKNOWN) {
            return 0;
        }
        return Math.max(0, primary - replayed);
    }
}
