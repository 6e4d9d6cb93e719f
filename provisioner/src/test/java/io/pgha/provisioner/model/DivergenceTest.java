package io.pgha.provisioner.model;

import io.pgha.api.postgres.TimelineHistory;
import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DivergenceTest {
    private static final long FORK = 0x3000148L;
    /** The primary promoted on timeline 2 at FORK. */
    private static final InstanceFacts PRIMARY = new InstanceFacts("pg-2", 20L, true, false, Set.of(), Set.of(), Map.of(),
            new InstanceFacts.Wal(2, FORK + 1000, false));
    private static final TimelineHistory HISTORY = TimelineHistory.parse("1\t0/3000148\tno recovery target specified\n");

    private static InstanceFacts standby(int timeline, long end, boolean receiving) {
        return new InstanceFacts("pg-3", 30L, true, true, Set.of(), Set.of(), Map.of(), new InstanceFacts.Wal(timeline, end, receiving));
    }

    @Test
    void aStandbyOnTheOldTimelineBeyondTheForkIsAhead() {
        assertTrue(Divergence.suspect(PRIMARY, standby(1, FORK + 1, false)));
        assertTrue(Divergence.aheadOfFork(PRIMARY, standby(1, FORK + 1, false), HISTORY));
    }

    @Test
    void aStandbyOnTheOldTimelineAtOrBehindTheForkFollowsByItself() {
        assertTrue(Divergence.suspect(PRIMARY, standby(1, FORK, false)));
        assertFalse(Divergence.aheadOfFork(PRIMARY, standby(1, FORK, false), HISTORY));
        assertFalse(Divergence.aheadOfFork(PRIMARY, standby(1, FORK - 8192, false), HISTORY));
    }

    @Test
    void aStreamingStandbyIsNeverSuspect() {
        assertFalse(Divergence.suspect(PRIMARY, standby(1, FORK + 1, true)));
        assertFalse(Divergence.aheadOfFork(PRIMARY, standby(1, FORK + 1, true), HISTORY));
    }

    @Test
    void aStandbyOnThePrimarysTimelineIsNeverSuspectHoweverFarBehind() {
        assertFalse(Divergence.suspect(PRIMARY, standby(2, FORK + 1, false)));
        assertFalse(Divergence.aheadOfFork(PRIMARY, standby(2, 0, false), HISTORY));
    }

    @Test
    void aTimelineOutsideThePrimarysHistoryCanNeverBeFollowed() {
        InstanceFacts primaryOn3 = new InstanceFacts("pg-2", 20L, true, false, Set.of(), Set.of(), Map.of(),
                new InstanceFacts.Wal(3, FORK + 1000, false));
        // timeline 2 was a branch that lost: timeline 3 forked off timeline 1
        assertTrue(Divergence.aheadOfFork(primaryOn3, standby(2, FORK - 8192, false), HISTORY));
    }

    @Test
    void nothingIsDecidedWithoutAnsweringInstances() {
        InstanceFacts unreachable = new InstanceFacts("pg-3", 30L, false, null, Set.of(), Set.of(), Map.of(), null);
        assertFalse(Divergence.suspect(PRIMARY, unreachable));
        assertFalse(Divergence.suspect(PRIMARY, InstanceFacts.down("pg-3")));
        assertFalse(Divergence.suspect(null, standby(1, FORK + 1, false)));
        InstanceFacts primaryInRecovery = new InstanceFacts("pg-2", 20L, true, true, Set.of(), Set.of(), Map.of(),
                new InstanceFacts.Wal(2, FORK + 1000, false));
        assertFalse(Divergence.suspect(primaryInRecovery, standby(1, FORK + 1, false)));
        // out of recovery it is a second primary: the monitor's business, not a rewind
        InstanceFacts outOfRecovery = new InstanceFacts("pg-3", 30L, true, false, Set.of(), Set.of(), Map.of(),
                new InstanceFacts.Wal(1, FORK + 1, false));
        assertFalse(Divergence.suspect(PRIMARY, outOfRecovery));
    }
}
