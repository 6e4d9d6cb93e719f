package io.pgha.monitor.core;

import io.pgha.api.SynchronousStandbyNames;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import static io.pgha.monitor.core.Obs.byName;
import static io.pgha.monitor.core.Obs.standby;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The standbys a quorum-mode failover counts, freezes and compares are the ones PostgreSQL lets
 * acknowledge: named in the primary's live synchronous_standby_names, whether the monitor recorded
 * them or not, fenced or not.
 */
class AcknowledgersTest {
    private static final MonitorSettings QUORUM1 = MonitorSettings.defaults().withQuorum(1);

    private static Optional<SynchronousStandbyNames.Setting> live(String... names) {
        return SynchronousStandbyNames.parse(SynchronousStandbyNames.quorum(1, List.of(names)));
    }

    @Test
    void asynchronousCountsTheRecordedStandbysThatAreNotFenced() {
        assertEquals(Set.of("pg-3"), Acknowledgers.of("pg-2", Optional.empty(), List.of("pg-1", "pg-2", "pg-3"),
                Set.of("pg-1"), Set.of("pg-1", "pg-3")));
    }

    @Test
    void aListedStandbyStreamingBeforeItWasRecordedCounts() {
        assertEquals(Set.of("pg-2", "pg-3", "pg-4"), Acknowledgers.of("pg-1", live("pg-1", "pg-2", "pg-3", "pg-4"),
                List.of("pg-1", "pg-2", "pg-3"), Set.of(), Set.of("pg-2", "pg-3", "pg-4")));
    }

    @Test
    void aFencedFormerPrimaryCountsOnceSeenStreamingAndNotBefore() {
        assertEquals(Set.of("pg-1", "pg-3"), Acknowledgers.of("pg-2", live("pg-1", "pg-2", "pg-3"),
                List.of("pg-1", "pg-2", "pg-3"), Set.of("pg-1"), Set.of("pg-1", "pg-3")));
        assertEquals(Set.of("pg-3"), Acknowledgers.of("pg-2", live("pg-1", "pg-2", "pg-3"),
                List.of("pg-1", "pg-2", "pg-3"), Set.of("pg-1"), Set.of("pg-3")), "fenced and stopped: it acknowledged nothing");
    }

    @Test
    void aStandbyNotListedCannotAcknowledge() {
        assertEquals(Set.of("pg-2"), Acknowledgers.of("pg-1", live("pg-1", "pg-2"),
                List.of("pg-1", "pg-2", "pg-3"), Set.of(), Set.of("pg-2", "pg-3")));
    }

    /**
     * ANY 1 (pg-1 .. pg-4): pg-4 was cloned, streams and acknowledges, but is not recorded yet, so
     * the monitor cannot reach it. The last commit may be on pg-4 alone: promoting the better of
     * pg-2 and pg-3 could lose it, so the failover is vetoed until pg-4 can be compared.
     */
    @Test
    void aFailoverWaitsForAnUnrecordedStandbyThatMayHoldTheLastCommit() {
        List<String> recorded = List.of("pg-1", "pg-2", "pg-3");
        Set<String> members = Acknowledgers.of("pg-1", live("pg-1", "pg-2", "pg-3", "pg-4"), recorded, Set.of(),
                Set.of("pg-2", "pg-3", "pg-4"));
        Procedure p = Procedure.failover("pg-1", recorded, Set.of(), Set.of(), QUORUM1, members, null);
        Procedure.Step next = p.frozen(byName(standby("pg-2", 1, "0/5000000", "0/5000000"),
                standby("pg-3", 1, "0/5000000", "0/5000000")));
        Procedure.Unfreeze unfreeze = assertInstanceOf(Procedure.Unfreeze.class, next);
        assertTrue(p.abortReason().contains("needs 3 of the 3 standbys that can acknowledge"), p.abortReason());
        assertEquals(List.of("pg-2", "pg-3"), unfreeze.standbys());
    }

    /**
     * pg-1, the fenced former primary, rejoined and streams from pg-2 when pg-2 fails; it is listed,
     * so it may hold commits pg-3 lacks. It is frozen and compared (never promoted): when it is
     * ahead of pg-3 the failover is vetoed, when pg-3 has as much WAL, pg-3 is promoted.
     */
    @Test
    void aFencedFormerPrimaryStillStreamingIsFrozenAndComparedButNeverPromoted() {
        List<String> recorded = List.of("pg-1", "pg-2", "pg-3");
        Set<String> members = Acknowledgers.of("pg-2", live("pg-1", "pg-2", "pg-3"), recorded, Set.of("pg-1"),
                Set.of("pg-1", "pg-3"));
        Procedure ahead = Procedure.failover("pg-2", recorded, Set.of(), Set.of("pg-1"), QUORUM1, members, null);
        assertEquals(new Procedure.Freeze(List.of("pg-1", "pg-3")), ahead.step());
        Map<String, InstanceObservation> positions = byName(standby("pg-1", 2, "0/6000000", "0/6000000"),
                standby("pg-3", 2, "0/5000000", "0/5000000"));
        assertInstanceOf(Procedure.Unfreeze.class, ahead.frozen(positions));
        assertTrue(ahead.abortReason().contains("pg-1 may not be promoted but holds WAL up to 0/6000000"), ahead.abortReason());

        Procedure even = Procedure.failover("pg-2", recorded, Set.of(), Set.of("pg-1"), QUORUM1, members, null);
        even.frozen(byName(standby("pg-1", 2, "0/6000000", "0/6000000"), standby("pg-3", 2, "0/6000000", "0/6000000")));
        assertEquals("pg-3", even.candidate());
    }
}
