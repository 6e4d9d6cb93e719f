package io.pgha.router.topology;

import org.junit.jupiter.api.Test;

import java.time.Duration;

import static io.pgha.router.topology.StandbyHealth.Sample.NOT_WAITING;
import static io.pgha.router.topology.StandbyHealth.UNKNOWN;
import static org.junit.jupiter.api.Assertions.assertEquals;

class StandbyHealthTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(1);
    private static final long NOW = 1_000_000_000_000L;

    private static StandbyState state(long replayed, long waitingSince, long primary) {
        return StandbyHealth.state(new StandbyHealth.Sample(replayed, waitingSince), primary, NOW, TIMEOUT);
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

    @Test
    void lagIsNeverNegativeAndZeroWhenUnknown() {
        assertEquals(0, StandbyHealth.lag(UNKNOWN, 10));
        assertEquals(0, StandbyHealth.lag(10, UNKNOWN));
        assertEquals(0, StandbyHealth.lag(10, 20));
        assertEquals(10, StandbyHealth.lag(20, 10));
    }
}
