package io.pgha.monitor.core;

import io.pgha.api.postgres.Lsn;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.Set;

import static io.pgha.monitor.core.Obs.byName;
import static io.pgha.monitor.core.Obs.down;
import static io.pgha.monitor.core.Obs.primary;
import static io.pgha.monitor.core.Obs.standby;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DeciderTest {
    private static final List<String> ALL = List.of("pg-1", "pg-2", "pg-3");
    private static final MonitorSettings SETTINGS = MonitorSettings.defaults();

    private static Decider.View view(boolean leader, MonitorSettings s, Set<String> fenced,
                                     Map<String, InstanceObservation> latest, int primaryFailures) {
        return new Decider.View(leader, s, ALL, "pg-1", 1, fenced, latest, Map.of("pg-1", primaryFailures), Set.of());
    }

    private static Map<String, InstanceObservation> primaryDown() {
        return byName(down("pg-1"), standby("pg-2", 1, "0/5", "0/5"), standby("pg-3", 1, "0/5", "0/5"));
    }

    @Test
    void failsOverAfterThresholdConsecutiveFailures() {
        assertInstanceOf(Decider.Idle.class, Decider.decide(view(true, SETTINGS, Set.of(), primaryDown(), 2)));
        Decider.Failover f = assertInstanceOf(Decider.Failover.class,
                Decider.decide(view(true, SETTINGS, Set.of(), primaryDown(), 3)));
        assertEquals("pg-1", f.failedPrimary());
        assertTrue(f.reason().contains("3 consecutive"), f.reason());
    }

    /**
     * At bootstrap under heavy load the primary did not answer in time before any standby had
     * streamed from it, so no standby's WAL receiver could vouch for it, and it was failed over.
     */
    @Test
    void aSilentPrimaryNoStandbyEverStreamedFromIsNotFailedOver() {
        InstanceObservation silent = InstanceObservation.silent("pg-1", Obs.NOW, java.time.Duration.ofSeconds(4));
        InstanceObservation cloned2 = InstanceObservation.standby("pg-2", Obs.NOW, 1, Lsn.parse("0/3000000"),
                Lsn.parse("0/3000000"), false, "host=127.0.0.1 port=1");
        InstanceObservation cloned3 = InstanceObservation.standby("pg-3", Obs.NOW, 1, Lsn.parse("0/3000000"),
                Lsn.parse("0/3000000"), false, "host=127.0.0.1 port=1");
        Map<String, InstanceObservation> bootstrapping = byName(silent, cloned2, cloned3);
        Decider.Hold h = assertInstanceOf(Decider.Hold.class, Decider.decide(new Decider.View(true, SETTINGS, ALL, "pg-1",
                1, Set.of(), bootstrapping, Map.of("pg-1", 4), Set.of(), Set.of())));
        assertTrue(h.reason().contains("no standby has streamed from it"), h.reason());

        // the same silence once the monitor saw pg-2 streaming from it: a hung primary, fail over
        assertInstanceOf(Decider.Failover.class, Decider.decide(new Decider.View(true, SETTINGS, ALL, "pg-1", 1, Set.of(),
                bootstrapping, Map.of("pg-1", 4), Set.of(), Set.of("pg-2"))));
        // a monitor that just took over saw nothing yet, but a WAL receiver connected now streamed from it
        assertInstanceOf(Decider.Failover.class, Decider.decide(new Decider.View(true, SETTINGS, ALL, "pg-1", 1, Set.of(),
                byName(silent, cloned2, standby("pg-3", 1, "0/3000000", "0/3000000")), Map.of("pg-1", 4), Set.of(), Set.of())));
        // ... and so did a standby a failover froze (an earlier leader judged this primary failed)
        InstanceObservation frozen = InstanceObservation.standby("pg-3", Obs.NOW, 1, Lsn.parse("0/3000000"),
                Lsn.parse("0/3000000"), false, "");
        assertInstanceOf(Decider.Failover.class, Decider.decide(new Decider.View(true, SETTINGS, ALL, "pg-1", 1, Set.of(),
                byName(silent, cloned2, frozen), Map.of("pg-1", 4), Set.of(), Set.of())));
        // a refused connection is no slowness: the rule is about silence only
        assertInstanceOf(Decider.Failover.class, Decider.decide(new Decider.View(true, SETTINGS, ALL, "pg-1", 1, Set.of(),
                byName(down("pg-1"), cloned2, cloned3), Map.of("pg-1", 3), Set.of(), Set.of())));
        // a fenced primary is being replaced already
        assertInstanceOf(Decider.Failover.class, Decider.decide(new Decider.View(true, SETTINGS, ALL, "pg-1", 1, Set.of("pg-1"),
                bootstrapping, Map.of("pg-1", 4), Set.of(), Set.of())));
    }

    @Test
    void aPrimaryUnderAPlannedMaintenanceHoldIsNotFailedOverUntilTheHoldExpires() {
        Decider.View held = new Decider.View(true, SETTINGS, ALL, "pg-1", 1, Set.of(), primaryDown(), Map.of("pg-1", 5),
                Set.of("pg-1"));
        Decider.Hold h = assertInstanceOf(Decider.Hold.class, Decider.decide(held));
        assertTrue(h.reason().contains("planned maintenance"), h.reason());
        // the hold expired (MaintenanceHold no longer lists it): the restart hangs, fail over
        Decider.View expired = new Decider.View(true, SETTINGS, ALL, "pg-1", 1, Set.of(), primaryDown(), Map.of("pg-1", 5),
                Set.of());
        assertEquals("pg-1", assertInstanceOf(Decider.Failover.class, Decider.decide(expired)).failedPrimary());
        // a hold on a standby does not keep a failed primary
        Decider.View standbyHeld = new Decider.View(true, SETTINGS, ALL, "pg-1", 1, Set.of(), primaryDown(), Map.of("pg-1", 5),
                Set.of("pg-2"));
        assertInstanceOf(Decider.Failover.class, Decider.decide(standbyHeld));
        // a fenced primary is already being replaced: a hold cannot stop that half-way
        Decider.View fenced = new Decider.View(true, SETTINGS, ALL, "pg-1", 1, Set.of("pg-1"), primaryDown(), Map.of("pg-1", 5),
                Set.of("pg-1"));
        assertInstanceOf(Decider.Failover.class, Decider.decide(fenced));
    }

    @Test
    void healthyPrimaryMeansNothingToDo() {
        Map<String, InstanceObservation> ok = byName(primary("pg-1", 1, "0/5"), standby("pg-2", 1, "0/5", "0/5"),
                standby("pg-3", 1, "0/5", "0/5"));
        assertInstanceOf(Decider.Idle.class, Decider.decide(view(true, SETTINGS, Set.of(), ok, 0)));
    }

    @Test
    void onlyTheLeaderActs() {
        assertEquals(new Decider.Idle("not the leader"), Decider.decide(view(false, SETTINGS, Set.of(), primaryDown(), 10)));
    }

    @Test
    void nothingWhileFailoverIsDisabled() {
        assertInstanceOf(Decider.Idle.class,
                Decider.decide(view(true, SETTINGS.withFailoverEnabled(false), Set.of(), primaryDown(), 10)));
        // not even re-fencing: disabled means hands off
        Map<String, InstanceObservation> back = byName(primary("pg-1", 1, "0/5"), primary("pg-2", 2, "0/6"));
        assertInstanceOf(Decider.Idle.class, Decider.decide(new Decider.View(true, SETTINGS.withFailoverEnabled(false),
                ALL, "pg-2", 2, Set.of("pg-1"), back, Map.of(), Set.of())));
    }

    @Test
    void neverFailsOverWhenNoInstanceAnswers() {
        Map<String, InstanceObservation> isolated = byName(down("pg-1"), down("pg-2"), down("pg-3"));
        Decider.Hold h = assertInstanceOf(Decider.Hold.class, Decider.decide(view(true, SETTINGS, Set.of(), isolated, 50)));
        assertTrue(h.reason().contains("cut off"), h.reason());
    }

    @Test
    void neverPromotesASecondPrimary() {
        // pg-2 runs as a primary on the recorded timeline: not a promotion of ours, so hands off
        Map<String, InstanceObservation> twoPrimaries = byName(down("pg-1"), primary("pg-2", 1, "0/9"),
                standby("pg-3", 1, "0/5", "0/5"));
        Decider.Hold h = assertInstanceOf(Decider.Hold.class,
                Decider.decide(view(true, SETTINGS, Set.of(), twoPrimaries, 5)));
        assertTrue(h.reason().contains("pg-2 already runs as a primary"), h.reason());
    }

    @Test
    void adoptsAPromotionWhoseRecordingWasInterrupted() {
        // a monitor promoted pg-2 to timeline 2 and died before writing status
        Map<String, InstanceObservation> m = byName(down("pg-1"), primary("pg-2", 2, "0/9"), standby("pg-3", 1, "0/5", "0/5"));
        Decider.Adopt a = assertInstanceOf(Decider.Adopt.class, Decider.decide(view(true, SETTINGS, Set.of(), m, 3)));
        assertEquals("pg-2", a.instance());
        assertEquals(2, a.timeline());
        // not before the recorded primary failed; a fenced one is stopped again, not adopted; never one of two
        assertInstanceOf(Decider.Idle.class, Decider.decide(view(true, SETTINGS, Set.of(), m, 2)));
        assertInstanceOf(Decider.Refence.class, Decider.decide(view(true, SETTINGS, Set.of("pg-2"),
                byName(down("pg-1"), primary("pg-2", 2, "0/9"), standby("pg-3", 1, "0/5", "0/5")), 3)));
        assertInstanceOf(Decider.Hold.class, Decider.decide(view(true, SETTINGS, Set.of(),
                byName(down("pg-1"), primary("pg-2", 2, "0/9"), primary("pg-3", 3, "0/9")), 3)));
    }

    @Test
    void aRecordedPrimaryAnsweringFromRecoveryFailsItsCheck() {
        assertTrue(FailureDetector.passed(primary("pg-1", 1, "0/5"), true, true));
        assertTrue(FailureDetector.passed(standby("pg-2", 1, "0/5", "0/5"), false, true));
        assertFalse(FailureDetector.passed(standby("pg-1", 1, "0/5", "0/5"), true, true));
        assertFalse(FailureDetector.passed(down("pg-1"), true, true));
    }

    @Test
    void holdsWhenNoStandbyAnswers() {
        Map<String, InstanceObservation> m = byName(down("pg-1"), down("pg-2"), standby("pg-3", 1, "0/5", "0/5"));
        // pg-3 is fenced (an old primary not rejoined yet): it is no candidate
        assertInstanceOf(Decider.Hold.class, Decider.decide(view(true, SETTINGS, Set.of("pg-3"), m, 5)));
        assertInstanceOf(Decider.Failover.class, Decider.decide(view(true, SETTINGS, Set.of(), m, 5)));
    }

    @Test
    void fencedFormerPrimaryRunningAgainIsStoppedAgain() {
        Map<String, InstanceObservation> m = byName(primary("pg-1", 1, "0/7"), primary("pg-2", 2, "0/9"),
                standby("pg-3", 2, "0/9", "0/9"));
        Decider.Decision d = Decider.decide(new Decider.View(true, SETTINGS, ALL, "pg-2", 2, Set.of("pg-1"), m, Map.of(), Set.of()));
        assertEquals("pg-1", assertInstanceOf(Decider.Refence.class, d).instance());
    }

    @Test
    void aFencedCurrentPrimaryIsReplacedAtOnce() {
        // e.g. a switchover stopped the primary and then could not promote
        Decider.Decision d = Decider.decide(view(true, SETTINGS, Set.of("pg-1"), primaryDown(), 1));
        assertInstanceOf(Decider.Failover.class, d);
    }

    @Test
    void noPrimaryRecordedYetMeansTheProvisionerIsStillBootstrapping() {
        Decider.View v = new Decider.View(true, SETTINGS, ALL, null, null, Set.of(), primaryDown(), Map.of(), Set.of());
        assertInstanceOf(Decider.Idle.class, Decider.decide(v));
    }

    @Test
    void rejoinedFencedInstancesAreReleased() {
        InstanceObservation streamingOnNewTimeline = standby("pg-1", 2, "0/9", "0/9");
        InstanceObservation frozen = InstanceObservation.standby("pg-3", Obs.NOW, 2, Lsn.parse("0/9"), Lsn.parse("0/9"),
                false, "");
        InstanceObservation oldTimeline = standby("pg-4", 1, "0/9", "0/9");
        Decider.View v = new Decider.View(true, SETTINGS, List.of("pg-1", "pg-2", "pg-3", "pg-4"), "pg-2", 2,
                Set.of("pg-1", "pg-3", "pg-4"), byName(streamingOnNewTimeline, primary("pg-2", 2, "0/9"), frozen, oldTimeline),
                Map.of(), Set.of());
        assertEquals(Set.of("pg-1"), Decider.rejoined(v));
    }
}
