package io.pgha.router.topology;

import java.time.Duration;

/**
 * Turns what the router's own polling saw of a standby into a {@link StandbyState}. Pure: the
 * tracker gathers the samples, this decides.
 *
 * <p>A standby is healthy when its last poll answered with a replay position and a timeline, that
 * timeline is not older than the primary's, and no poll has been waiting for an answer longer
 * than {@link #ANSWER_TIMEOUT}. A failed poll (connection refused or lost, query error) or a NULL
 * replay position (the server is not in recovery, so it is no standby) makes it unhealthy at
 * once; the next good answer makes it healthy again, with no hysteresis, so a flapping standby
 * follows its latest poll.
 *
 * <p>Timelines: a standby's is the one its WAL receiver last received
 * ({@code pg_stat_wal_receiver.received_tli}); without a WAL receiver it is unknown. A standby
 * left on an older timeline than the primary's may have replayed WAL past the point where the
 * primary's timeline forked off: rows a failover discarded. Its positions say nothing about the
 * primary's (the same LSN is different WAL on two timelines), so it gets no reads, and neither
 * does one whose timeline is unknown (a standby cut off from its primary cannot tell it moved
 * on). Positions are compared only within one timeline.
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
    /** No timeline known: not asked yet, the poll failed, or the standby has no WAL receiver. Real ones start at 1. */
    public static final int UNKNOWN_TIMELINE = 0;

    private StandbyHealth() {
    }

    /**
     * What one standby's polling saw.
     *
     * @param replayed the replay position of the last answer, or {@link #UNKNOWN} if the last poll
     *        failed, returned NULL or none has answered yet
     * @param timeline the timeline of the last answer, or {@link #UNKNOWN_TIMELINE}
     * @param waitingSince {@link System#nanoTime()} when the poll now in flight was sent, or
     *        {@link Long#MIN_VALUE} when none is in flight
     */
    public record Sample(long replayed, int timeline, long waitingSince) {
        public static final long NOT_WAITING = Long.MIN_VALUE;
    }

    /**
     * The standby's state at {@code now}.
     *
     * @param primary the primary's current WAL position as last polled, or {@link #UNKNOWN}
     * @param primaryTimeline the primary's timeline as last polled, or {@link #UNKNOWN_TIMELINE}
     */
    public static StandbyState state(Sample sample, long primary, int primaryTimeline, long now, Duration answerTimeout) {
        boolean answering = sample.waitingSince() == Sample.NOT_WAITING || now - sample.waitingSince() <= answerTimeout.toNanos();
        boolean healthy = answering && sample.replayed() != UNKNOWN && onPrimaryHistory(sample.timeline(), primaryTimeline);
        return new StandbyState(healthy, lag(primary, comparable(sample.replayed(), sample.timeline(), primaryTimeline)));
    }

    /**
     * Whether a standby on {@code timeline} follows the primary's history: its timeline is known
     * and not older than the primary's. With the primary's timeline not known (not polled yet, or
     * unreachable since the router started) only the standby's own must be known. A newer one than
     * the primary's means the primary as last polled is the stale one (a failover the router's
     * topology has not caught up with).
     */
    static boolean onPrimaryHistory(int timeline, int primaryTimeline) {
        return timeline != UNKNOWN_TIMELINE && (primaryTimeline == UNKNOWN_TIMELINE || timeline >= primaryTimeline);
    }

    /**
     * {@code replayed} where it can be compared with the primary's positions: on the primary's
     * timeline; {@link #UNKNOWN} on any other, or when either timeline is unknown.
     */
    public static long comparable(long replayed, int timeline, int primaryTimeline) {
        return timeline != UNKNOWN_TIMELINE && timeline == primaryTimeline ? replayed : UNKNOWN;
    }

    /**
     * Bytes of WAL the standby has yet to replay. Unknown positions give 0: with the primary not
     * polled yet (the router just started, or the primary changed), or the two on different
     * timelines, lag cannot be judged, and health alone decides. A standby seen ahead of the primary was simply polled after it and is
     * current.
     */
    static long lag(long primary, long replayed) {
        if (primary == UNKNOWN || replayed == UNKNOWN) {
            return 0;
        }
        return Math.max(0, primary - replayed);
    }
}
