package io.pgha.router.topology;

import org.junit.jupiter.api.Test;

import java.time.Duration;

import static io.pgha.router.topology.StandbyHealth.Sample.NOT_WAITING;
import static io.pgha.router.topology.StandbyHealth.UNKNOWN;
import static io.pgha.router.topology.StandbyHealth.UNKNOWN_TIMELINE;
import static org.junit.jupiter.api.Assertions.assertEquals;

class StandbyHealthTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(1);
    private static final long NOW = 1_000_000_000_000L;

    /** On timeline 1, as the primary. */
    private static StandbyState state(long replayed, long waitingSince, long primary) {
        return state(replayed, 1, waitingSince, primary, 1);
    }

    private static StandbyState state(long replayed, int timeline, long waitingSince, long primary, int primaryTimeline) {
        return StandbyHealth.state(new StandbyHealth.Sample(replayed, timeline, waitingSince), primary, primaryTimeline, NOW, TIMEOUT);
    }

    @Test
    void anAnsweringStandbyIsHealthyAndLagsByTheDifference() {
        assertEquals(new StandbyState(true, 0), state(5000, NOT_WAITING, 5000));
        assertEquals(new StandbyState(true, 3000), state(2000, NOT_WAITING, 5000));
    }

    @Test
    void aPollInFlightWithinTheTimeoutKeepsItHealthy() {
        assertEquals(new StandbyState(true, 100), state(4900, NOW - TIMEOUT.toNanos(), 5000));
    }

    @Test
    void noAnswerForLongerThanTheTimeoutMakesItUnhealthy() {
        assertEquals(new StandbyState(false, 100), state(4900, NOW - TIMEOUT.toNanos() - 1, 5000));
    }

    @Test
    void aFailedPollOrANullReplayPositionMakesItUnhealthy() {
        // the tracker records both as an unknown position; neither a standby nor reachable
        assertEquals(new StandbyState(false, 0), state(UNKNOWN, NOT_WAITING, 5000));
    }

    @Test
    void notPolledYetIsUnhealthy() {
        assertEquals(new StandbyState(false, 0), state(UNKNOWN, NOW - 1, UNKNOWN));
    }

    @Test
    void withThePrimaryPositionUnknownLagCannotBeJudgedAndHealthAloneDecides() {
        assertEquals(new StandbyState(true, 0), state(4900, NOT_WAITING, UNKNOWN));
    }

    @Test
    void aStandbySeenAheadOfThePrimarySampleIsCurrent() {
        // the primary was polled before the standby replayed more: never a negative lag
        assertEquals(new StandbyState(true, 0), state(6000, NOT_WAITING, 5000));
    }

    @Test
    void aFlappingStandbyFollowsItsLatestPoll() {
        long[] answers = {5000, UNKNOWN, 5000, UNKNOWN, 5000};
        boolean[] healthy = {true, false, true, false, true};
        for (int i = 0; i < answers.length; i++) {
            assertEquals(healthy[i], state(answers[i], NOT_WAITING, 5000).healthy(), "after poll " + i);
        }
    }

    /**
     * After a failover the primary is on timeline 3; a standby still on 2, ahead of the fork, shows
     * a position past the primary's: it may serve rows the failover discarded. No reads.
     */
    @Test
    void aStandbyOnAnOlderTimelineThanThePrimarysGetsNoReads() {
        assertEquals(new StandbyState(false, 0), state(6000, 2, NOT_WAITING, 5000, 3));
    }

    @Test
    void aStandbyWhoseTimelineIsUnknownGetsNoReads() {
        // no WAL receiver: it cannot know whether the primary moved to a new timeline
        assertEquals(new StandbyState(false, 0), state(5000, UNKNOWN_TIMELINE, NOT_WAITING, 5000, 1));
        assertEquals(new StandbyState(false, 0), state(5000, UNKNOWN_TIMELINE, NOT_WAITING, UNKNOWN, UNKNOWN_TIMELINE));
    }

    @Test
    void withThePrimarysTimelineUnknownAStandbyWithAKnownOneIsJudgedByHealth() {
        assertEquals(new StandbyState(true, 0), state(4900, 2, NOT_WAITING, UNKNOWN, UNKNOWN_TIMELINE));
    }

    @Test
    void positionsOnDifferentTimelinesAreNotCompared() {
        // a standby already on the new timeline while the primary as last polled is the old one:
        // healthy (it follows the newer history), lag not judged
        assertEquals(new StandbyState(true, 0), state(1000, 3, NOT_WAITING, 5000, 2));
        assertEquals(new StandbyState(true, 4000), state(1000, 3, NOT_WAITING, 5000, 3), "the same timeline: compared");
        assertEquals(UNKNOWN, StandbyHealth.comparable(6000, 2, 3), "read-your-writes does not trust an old-timeline position");
        assertEquals(UNKNOWN, StandbyHealth.comparable(6000, 3, 2));
        assertEquals(UNKNOWN, StandbyHealth.comparable(6000, UNKNOWN_TIMELINE, UNKNOWN_TIMELINE));
        assertEquals(6000, StandbyHealth.comparable(6000, 3, 3));
    }

    @Test
    void lagIsNeverNegativeAndZeroWhenUnknown() {
        assertEquals(0, StandbyHealth.lag(UNKNOWN, 10));
        assertEquals(0, StandbyHealth.lag(10, UNKNOWN));
        assertEquals(0, StandbyHealth.lag(10, 20));
        assertEquals(10, StandbyHealth.lag(20, 10));
    }
}
