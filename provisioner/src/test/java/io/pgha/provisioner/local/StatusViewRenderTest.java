package io.pgha.provisioner.local;

import io.pgha.api.v1.cluster.BackupStatus;
import io.pgha.api.v1.cluster.TopologyStatus;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What pgha status and pgha history print, from facts given here (the live look is covered end to end). */
class StatusViewRenderTest {
    private static TopologyStatus.Promotion failover() {
        TopologyStatus.Promotion p = new TopologyStatus.Promotion();
        p.kind = "failover";
        p.from = "pg-1";
        p.to = "pg-3";
        p.timeline = 2;
        p.finishedAt = "2026-12-05T01:00:00Z";
        p.lostBytes = 8192L;
        p.reason = "primary pg-1 failed 3 checks";
        return p;
    }

    @Test
    void fencedInstancesPendingRestartsTheLastFailoverAndAFailingArchiveShow() {
        TopologyStatus.LeaseTerm term = new TopologyStatus.LeaseTerm();
        term.holder = "host-1234";
        term.counter = 3L;
        BackupStatus backup = new BackupStatus();
        backup.lastSuccessfulBackup = "2026-12-05T00:30:00Z";
        backup.firstRecoverabilityPoint = "2026-12-05T00:29:00Z";
        backup.lastArchivedWal = "000000020000000000000007";
        backup.lastArchivedTime = "2026-12-05T00:59:00Z";
        backup.lastFailedWal = "000000020000000000000008";
        backup.lastFailedTime = "2026-12-05T01:01:00Z";
        StatusView.Cluster c = new StatusView.Cluster("pg", "WaitingForInstances", "pg-1 is not reachable", "pg-3", List.of(
                new StatusView.Instance("pg-1", "standby", "127.0.0.1", 6443, null, false, null, 1, null, null, null, true, List.of()),
                new StatusView.Instance("pg-2", "standby", "127.0.0.1", 6444, 12L, true, 40L, 2, "pg-3", "quorum", 0.25, false,
                        List.of("shared_buffers")),
                new StatusView.Instance("pg-3", "primary", "127.0.0.1", 6445, 13L, true, 0L, 2, null, null, null, false,
                        List.of(StatusView.RESTART_REQUESTED))),
                null, List.of(), term, failover(), backup);
        String out = StatusView.render(c);
        List<String> lines = out.lines().toList();
        assertTrue(lines.get(2).startsWith("pg-1") && lines.get(2).contains("NOT streaming") && lines.get(2).endsWith("fenced"), out);
        assertTrue(lines.get(3).contains("streaming from pg-3 (quorum)") && lines.get(3).contains("40 B")
                && lines.get(3).contains("0.3") && lines.get(3).endsWith("restart pending (shared_buffers)"), out);
        assertTrue(lines.get(4).endsWith("restart pending (requested)"), out);
        assertTrue(out.contains("monitor leader: host-1234 (term 3)\n"), out);
        assertTrue(out.contains("last failover or switchover: failover pg-1 -> pg-3 at 2026-12-05T01:00:00Z (timeline 2)\n"), out);
        assertTrue(out.contains("backups: last successful 2026-12-05T00:30:00Z, recoverable from 2026-12-05T00:29:00Z\n"), out);
        assertTrue(out.contains("WAL archive: last archived 000000020000000000000007 at 2026-12-05T00:59:00Z, FAILING since "
                + "000000020000000000000008 at 2026-12-05T01:01:00Z\n"), out);
    }

    @Test
    void historyListsEachPromotionWithWhatItLost() {
        assertEquals(History.NONE, History.render(List.of()));
        TopologyStatus.Promotion switchover = new TopologyStatus.Promotion();
        switchover.kind = "switchover";
        switchover.from = "pg-3";
        switchover.to = "pg-2";
        switchover.timeline = 3;
        switchover.finishedAt = "2026-12-05T02:00:00Z";
        switchover.lostBytes = 0L;
        List<String> lines = History.render(List.of(failover(), switchover)).lines().toList();
        assertEquals(3, lines.size());
        assertTrue(lines.get(0).startsWith("FINISHED"));
        assertEquals(List.of("2026-12-05T01:00:00Z", "failover", "pg-1", "pg-3", "2", "8192", "B", "primary", "pg-1", "failed", "3",
                "checks"), List.of(lines.get(1).split(" +")));
        assertEquals(List.of("2026-12-05T02:00:00Z", "switchover", "pg-3", "pg-2", "3", "0", "B", "-"), List.of(lines.get(2).split(" +")));
    }
}
