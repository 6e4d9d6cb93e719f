package io.pgha.monitor.core;

import io.pgha.api.postgres.Lsn;

import org.junit.jupiter.api.Test;

import java.util.Set;

import static io.pgha.monitor.core.Obs.down;
import static io.pgha.monitor.core.Obs.list;
import static io.pgha.monitor.core.Obs.standby;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CandidateSelectorTest {
    private static final MonitorSettings ASYNC = MonitorSettings.defaults();

    private static CandidateSelector.Choice auto(java.util.List<InstanceObservation> standbys, Set<String> sync) {
        return CandidateSelector.choose(standbys, sync, Set.of(), ASYNC, Set.of(), null, true);
    }

    private static String chosen(CandidateSelector.Choice c) {
        return assertInstanceOf(CandidateSelector.Chosen.class, c).name();
    }

    @Test
    void mostWalWinsCountingReceivedNotYetReplayed() {
        // pg-3 replayed less but received more: what it received is not lost, promotion replays it
        assertEquals("pg-3", chosen(auto(list(standby("pg-2", 1, "0/5000000", "0/5000000"),
                standby("pg-3", 1, "0/6000000", "0/4000000")), Set.of())));
    }

    @Test
    void higherTimelineBeatsMoreWal() {
        assertEquals("pg-2", chosen(auto(list(standby("pg-2", 3, "0/1000000", "0/1000000"),
                standby("pg-3", 2, "0/9000000", "0/9000000")), Set.of())));
    }

    @Test
    void synchronousFirstAmongEquals() {
        assertEquals("pg-3", chosen(auto(list(standby("pg-2", 1, "0/5000000", "0/5000000"),
                standby("pg-3", 1, "0/5000000", "0/5000000")), Set.of("pg-3"))));
    }

    @Test
    void synchronousNeverBeatsMoreWal() {
        assertEquals("pg-2", chosen(auto(list(standby("pg-2", 1, "0/5000001", "0/5000001"),
                standby("pg-3", 1, "0/5000000", "0/5000000")), Set.of("pg-3"))));
    }

    @Test
    void aDelayedStandbyComesAfterAnUndelayedOneWithTheSameWal() {
        // pg-2 replays an hour late (recovery_min_apply_delay): promoting it would wait on that replay
        assertEquals("pg-3", chosen(auto(list(standby("pg-2", 1, "0/5000000", "0/4000000").withApplyDelayed(true),
                standby("pg-3", 1, "0/5000000", "0/5000000")), Set.of("pg-2"))));
    }

    @Test
    void aDelayedStandbyWithMoreWalIsStillChosen() {
        // what only it received would be lost otherwise
        assertEquals("pg-2", chosen(auto(list(standby("pg-2", 1, "0/5000001", "0/4000000").withApplyDelayed(true),
                standby("pg-3", 1, "0/5000000", "0/5000000")), Set.of())));
    }

    @Test
    void nameBreaksFullTiesSoTheChoiceIsStable() {
        assertEquals("pg-2", chosen(auto(list(standby("pg-3", 1, "0/5000000", "0/5000000"),
                standby("pg-2", 1, "0/5000000", "0/5000000")), Set.of())));
    }

    @Test
    void skipsUnreachableExcludedAndPrimaries() {
        CandidateSelector.Choice c = CandidateSelector.choose(list(down("pg-2"), standby("pg-3", 1, "0/9", "0/9"),
                standby("pg-4", 1, "0/5", "0/5"), Obs.primary("pg-5", 1, "0/99")), Set.of(), Set.of("pg-3"), ASYNC, Set.of(),
                null, true);
        assertEquals("pg-4", chosen(c));
        assertEquals(1, ((CandidateSelector.Chosen) c).ranking().size());
        assertInstanceOf(CandidateSelector.NoCandidate.class, auto(list(down("pg-2"), down("pg-3")), Set.of()));
    }

    @Test
    void asyncLossBoundVetoesAutomaticFailoverOnly() {
        MonitorSettings bounded = ASYNC.withMaxDataLossBytes(1024L);
        var standbys = list(standby("pg-2", 1, "0/5000000", "0/5000000"));
        Lsn primaryWasAt = Lsn.parse("0/5000000").plus(4096);
        CandidateSelector.Choice veto = CandidateSelector.choose(standbys, Set.of(), Set.of(), bounded, Set.of(), primaryWasAt, true);
        assertTrue(assertInstanceOf(CandidateSelector.Vetoed.class, veto).reason().contains("4096 bytes behind"));
        assertEquals("pg-2", chosen(CandidateSelector.choose(standbys, Set.of(), Set.of(), bounded, Set.of(), primaryWasAt, false)));
        assertEquals("pg-2", chosen(CandidateSelector.choose(standbys, Set.of(), Set.of(), bounded, Set.of(),
                Lsn.parse("0/5000000").plus(1024), true)), "exactly at the bound is allowed");
        assertEquals("pg-2", chosen(CandidateSelector.choose(standbys, Set.of(), Set.of(), ASYNC, Set.of(), primaryWasAt, true)),
                "no bound configured");
    }

    @Test
    void quorumNeedsEnoughStandbysToHoldEveryAcknowledgedCommit() {
        MonitorSettings quorum1 = ASYNC.withQuorum(1);
        // ANY 1 of (pg-2, pg-3): a commit may live only on pg-3, so pg-2 alone is not enough
        CandidateSelector.Choice c = CandidateSelector.choose(list(standby("pg-2", 1, "0/5", "0/5"), down("pg-3")),
                Set.of(), Set.of(), quorum1, Set.of("pg-2", "pg-3"), null, true);
        assertInstanceOf(CandidateSelector.Vetoed.class, c);
        assertEquals("pg-2", chosen(CandidateSelector.choose(list(standby("pg-2", 1, "0/5", "0/5"),
                standby("pg-3", 1, "0/4", "0/4")), Set.of(), Set.of(), quorum1, Set.of("pg-2", "pg-3"), null, true)));
        // ANY 2 of 3: any two standbys share one that has every commit
        assertEquals("pg-3", chosen(CandidateSelector.choose(list(down("pg-2"), standby("pg-3", 1, "0/6", "0/6"),
                standby("pg-4", 1, "0/5", "0/5")), Set.of(), Set.of(), ASYNC.withQuorum(2), Set.of("pg-2", "pg-3", "pg-4"), null, true)));
        // the loss bound is for asynchronous mode: quorum mode ignores it
        assertEquals("pg-2", chosen(CandidateSelector.choose(list(standby("pg-2", 1, "0/5", "0/5")), Set.of(), Set.of(),
                quorum1.withMaxDataLossBytes(0L), Set.of("pg-2"), Lsn.parse("1/0"), true)));
    }
}
