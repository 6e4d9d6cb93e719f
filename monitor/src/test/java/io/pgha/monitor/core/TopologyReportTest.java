package io.pgha.monitor.core;

import io.pgha.api.v1.cluster.TopologyStatus;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Set;

import static io.pgha.monitor.core.Obs.byName;
import static io.pgha.monitor.core.Obs.down;
import static io.pgha.monitor.core.Obs.primary;
import static io.pgha.monitor.core.Obs.replica;
import static io.pgha.monitor.core.Obs.standby;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TopologyReportTest {
    private static final List<String> ALL = List.of("pg-1", "pg-2", "pg-3");

    @Test
    void reportsRolesLagAndSyncState() {
        var latest = byName(primary("pg-1", 1, "0/5000400", replica("pg-2", "quorum", "0/5000000", 0.25)),
                standby("pg-2", 1, "0/5000400", "0/5000000"), down("pg-3"));
        List<TopologyStatus.Instance> r = TopologyReport.instances(ALL, "pg-1", Set.of(), latest);
        assertEquals("primary", r.get(0).role);
        assertTrue(r.get(0).healthy);
        assertEquals("0/5000400", r.get(0).receiveLsn);
        assertEquals("standby", r.get(1).role);
        assertEquals(1024L, r.get(1).lagBytes);
        assertEquals(0.25, r.get(1).lagSeconds);
        assertEquals("quorum", r.get(1).syncState);
        assertFalse(r.get(2).healthy);
        assertNull(r.get(2).role);
    }

    @Test
    void neverTwoPrimaries() {
        var latest = byName(primary("pg-1", 1, "0/5"), primary("pg-2", 2, "0/9"), standby("pg-3", 2, "0/9", "0/9"));
        List<TopologyStatus.Instance> r = TopologyReport.instances(ALL, "pg-2", Set.of("pg-1"), latest);
        assertEquals(1, r.stream().filter(i -> "primary".equals(i.role)).count());
        assertEquals("primary", r.get(1).role);
        assertNull(r.get(0).role);
        assertFalse(r.get(0).healthy);
    }

    @Test
    void walProgressAloneIsNoMeaningfulChange() {
        var before = TopologyReport.instances(ALL, "pg-1", Set.of(), byName(primary("pg-1", 1, "0/5"),
                standby("pg-2", 1, "0/5", "0/5"), standby("pg-3", 1, "0/5", "0/5")));
        var progressed = TopologyReport.instances(ALL, "pg-1", Set.of(), byName(primary("pg-1", 1, "0/9"),
                standby("pg-2", 1, "0/9", "0/7"), standby("pg-3", 1, "0/8", "0/8")));
        var broken = TopologyReport.instances(ALL, "pg-1", Set.of(), byName(primary("pg-1", 1, "0/9"),
                standby("pg-2", 1, "0/9", "0/7"), down("pg-3")));
        assertFalse(TopologyReport.meaningfullyDifferent(before, progressed));
        assertTrue(TopologyReport.meaningfullyDifferent(progressed, broken));
        assertTrue(TopologyReport.meaningfullyDifferent(before, before.subList(0, 2)));
    }
}
