package io.pgha.monitor.core;

import io.pgha.api.postgres.Lsn;
import org.junit.jupiter.api.Test;

import static io.pgha.monitor.core.Obs.down;
import static io.pgha.monitor.core.Obs.primary;
import static io.pgha.monitor.core.Obs.standby;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class InstanceObservationTest {
    @Test
    void aCandidateHasCaughtUpOnceItReplayedAllItReceived() {
        assertFalse(standby("pg-2", 1, "0/5000000", "0/4000000").caughtUp(null));
        assertTrue(standby("pg-2", 1, "0/5000000", "0/5000000").caughtUp(null));
        assertFalse(standby("pg-2", 1, "0/5000000", "0/5000000").caughtUp(Lsn.parse("0/6000000")), "not yet at the old primary's end");
        assertTrue(primary("pg-2", 2, "0/6000000").caughtUp(null), "already promoted");
        assertFalse(down("pg-2").caughtUp(null));
    }

    @Test
    void aDelayedStandbyNeedsOnlyToHaveReceivedTheWal() {
        // its replay trails by recovery_min_apply_delay on purpose; promotion ends the delay
        InstanceObservation delayed = standby("pg-2", 1, "0/5000000", "0/4000000").withApplyDelayed(true);
        assertTrue(delayed.caughtUp(null));
        assertTrue(delayed.caughtUp(Lsn.parse("0/5000000")));
        assertFalse(delayed.caughtUp(Lsn.parse("0/5000001")), "a switchover still needs all of the old primary's WAL received");
    }
}
