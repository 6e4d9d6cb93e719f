package io.pgha.backup.core;

import io.pgha.api.v1.cluster.BootstrapSpec;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RecoveryPlannerTest {
    private static final BackupInfo FIRST = backup("pg-20261204t220000z", "0/2000000", "0/2000100", "2026-12-04T22:00:05Z");
    private static final BackupInfo SECOND = backup("pg-20261204t221000z", "0/5000000", "0/5000100", "2026-12-04T22:10:05Z");

    private static BackupInfo backup(String name, String begin, String end, String finished) {
        return new BackupInfo(name, "pg", 1, begin, end, "000000010000000000000002", "000000010000000000000002",
                finished, finished, 1, 1, "zstd", 150012);
    }

    /** Commits of xids 740, 741 and 742 at 22:05, 22:12 and 22:20, a restore point "rp" at 0/6000000. */
    private static WalSummary wal() {
        WalSummary w = new WalSummary();
        w.accept("rmgr: Transaction len (rec/tot):     34/    34, tx:        740, lsn: 0/03000028, prev 0/03000000, desc: COMMIT 2026-12-04 22:05:00.5 UTC");
        w.accept("rmgr: Transaction len (rec/tot):     34/    34, tx:        741, lsn: 0/05800028, prev 0/05800000, desc: COMMIT 2026-12-04 22:12:00 UTC");
        w.accept("rmgr: XLOG        len (rec/tot):     98/    98, tx:          0, lsn: 0/06000000, prev 0/05FFFF00, desc: RESTORE_POINT rp");
        w.accept("rmgr: Transaction len (rec/tot):     34/    34, tx:        742, lsn: 0/07000028, prev 0/07000000, desc: ABORT 2026-12-04 22:20:00 UTC; rels: base/5/1");
        w.accept("rmgr: XLOG        len (rec/tot):     24/    24, tx:          0, lsn: 0/07000100, prev 0/07000028, desc: SWITCH ");
        w.accept("pg_waldump: error: error in WAL record at 0/7000118: invalid record length");
        return w;
    }

    private static BootstrapSpec.Target target() {
        return new BootstrapSpec.Target();
    }

    private static RecoveryPlanner.Outcome plan(BootstrapSpec.Target t) {
        return RecoveryPlanner.plan("pg", List.of(SECOND, FIRST), null, t, wal());
    }

    private static String chosen(BootstrapSpec.Target t) {
        return assertInstanceOf(RecoveryPlanner.Plan.class, plan(t)).backup().name();
    }

    private static String refusal(BootstrapSpec.Target t) {
        return assertInstanceOf(RecoveryPlanner.Refusal.class, plan(t)).message();
    }

    @Test
    void summaryReadsTransactionEndsRestorePointsAndTheLastRecord() {
        WalSummary w = wal();
        assertEquals(3, w.transactionEnds().size());
        assertEquals(741, w.transactionEnds().get(1).xid());
        assertEquals(java.time.Instant.parse("2026-12-04T22:05:00.500Z"), w.transactionEnds().get(0).time());
        assertEquals("rp", w.restorePoints().get(0).name());
        assertEquals(0x07000100L, w.lastRecordLsn());
        WalSummary prepared = new WalSummary();
        prepared.accept("rmgr: Transaction len (rec/tot): 1/1, tx: 0, lsn: 0/1, prev 0/0, desc: COMMIT_PREPARED 9: 2026-12-04 22:31:00 UTC");
        assertEquals(9, prepared.transactionEnds().get(0).xid());
    }

    @Test
    void theLatestBackupEndingBeforeTheTargetIsChosen() {
        assertEquals(SECOND.name(), chosen(null));
        BootstrapSpec.Target immediate = target();
        immediate.immediate = true;
        assertEquals(SECOND.name(), chosen(immediate));
        BootstrapSpec.Target time = target();
        time.time = "2026-12-04T22:07:00Z";
        assertEquals(FIRST.name(), chosen(time));
        time.time = "2026-12-04T22:15:00Z";
        assertEquals(SECOND.name(), chosen(time));
        BootstrapSpec.Target lsn = target();
        lsn.lsn = "0/4000000";
        assertEquals(FIRST.name(), chosen(lsn));
        BootstrapSpec.Target xid = target();
        xid.xid = 740L;
        assertEquals(FIRST.name(), chosen(xid));
        xid.xid = 742L;
        assertEquals(SECOND.name(), chosen(xid));
        BootstrapSpec.Target name = target();
        name.name = "rp";
        assertEquals(SECOND.name(), chosen(name));
    }

    @Test
    void targetsOutsideTheWindowAreRefusedNamingIt() {
        BootstrapSpec.Target early = target();
        early.time = "2026-12-04T21:00:00Z";
        String message = refusal(early);
        assertTrue(message.contains("before the end of the first backup"), message);
        assertTrue(message.contains("can be recovered from 2026-12-04T22:00:05Z"), message);
        assertTrue(message.contains("to 2026-12-04T22:20:00Z"), message);
        BootstrapSpec.Target late = target();
        late.time = "2026-12-04T22:20:00Z";
        assertTrue(refusal(late).contains("is not before the last commit or abort"), refusal(late));
        BootstrapSpec.Target lsn = target();
        lsn.lsn = "0/8000000";
        assertTrue(refusal(lsn).contains("beyond the last WAL record"), refusal(lsn));
        BootstrapSpec.Target xid = target();
        xid.xid = 999L;
        assertTrue(refusal(xid).contains("target xid 999 has no commit or abort"), refusal(xid));
        BootstrapSpec.Target name = target();
        name.name = "nope";
        assertTrue(refusal(name).contains("restore point 'nope' is not in the archive"), refusal(name));
        assertTrue(refusal(name).contains("[rp]"), refusal(name));
    }

    @Test
    void aNamedBackupMustEndBeforeTheTarget() {
        BootstrapSpec.Target time = target();
        time.time = "2026-12-04T22:07:00Z";
        RecoveryPlanner.Outcome o = RecoveryPlanner.plan("pg", List.of(FIRST, SECOND), SECOND.name(), time, wal());
        assertTrue(assertInstanceOf(RecoveryPlanner.Refusal.class, o).message().contains("before the end of backup '" + SECOND.name() + "'"));
        RecoveryPlanner.Outcome missing = RecoveryPlanner.plan("pg", List.of(FIRST), "other", null, wal());
        assertTrue(assertInstanceOf(RecoveryPlanner.Refusal.class, missing).message().contains("backup 'other' is not in prefix 'pg'"));
        RecoveryPlanner.Outcome none = RecoveryPlanner.plan("pg", List.of(), null, null, new WalSummary());
        assertTrue(assertInstanceOf(RecoveryPlanner.Refusal.class, none).message().contains("no complete backup"));
    }

    @Test
    void onlyTargetsThatNeedTheArchiveReadIt() {
        assertFalse(RecoveryPlanner.needsWal(null));
        BootstrapSpec.Target immediate = target();
        immediate.immediate = true;
        assertFalse(RecoveryPlanner.needsWal(immediate));
        RecoveryPlanner.Plan end = assertInstanceOf(RecoveryPlanner.Plan.class,
                RecoveryPlanner.plan("pg", List.of(FIRST, SECOND), null, null, new WalSummary()));
        assertEquals(SECOND.name(), end.backup().name());
        assertTrue(end.window().endsWith("to the end of its archive"), end.window());
        BootstrapSpec.Target time = target();
        time.time = "2026-12-04T22:07:00Z";
        assertTrue(RecoveryPlanner.needsWal(time));
    }

    @Test
    void readingBackwardsStopsOnceTheTargetsRecordAndTheLastCommitAreRead() {
        WalSummary noCommit = new WalSummary();
        noCommit.accept("rmgr: XLOG        len (rec/tot):     24/    24, tx:          0, lsn: 0/07000100, prev 0/07000028, desc: SWITCH ");
        BootstrapSpec.Target lsn = target();
        lsn.lsn = "0/4000000";
        assertFalse(RecoveryPlanner.enough(lsn, noCommit), "the window's end (the last commit) is not read yet");
        assertTrue(RecoveryPlanner.enough(lsn, wal()));
        BootstrapSpec.Target xid = target();
        xid.xid = 741L;
        assertTrue(RecoveryPlanner.enough(xid, wal()));
        xid.xid = 739L;
        assertFalse(RecoveryPlanner.enough(xid, wal()));
        BootstrapSpec.Target name = target();
        name.name = "rp";
        assertTrue(RecoveryPlanner.enough(name, wal()));
        name.name = "other";
        assertFalse(RecoveryPlanner.enough(name, wal()));
    }

    @Test
    void partsReadNewestFirstJoinInWalOrderWithTheirOverlapOnce() {
        WalSummary older = new WalSummary();
        older.accept("rmgr: Transaction len (rec/tot):     34/    34, tx:        740, lsn: 0/03000028, prev 0/03000000, desc: COMMIT 2026-12-04 22:05:00.5 UTC");
        older.accept("rmgr: Transaction len (rec/tot):     34/    34, tx:        741, lsn: 0/05800028, prev 0/05800000, desc: COMMIT 2026-12-04 22:12:00 UTC");
        WalSummary newer = new WalSummary();
        // the segment both parts read: its commit comes once
        newer.accept("rmgr: Transaction len (rec/tot):     34/    34, tx:        741, lsn: 0/05800028, prev 0/05800000, desc: COMMIT 2026-12-04 22:12:00 UTC");
        newer.accept("rmgr: XLOG        len (rec/tot):     98/    98, tx:          0, lsn: 0/06000000, prev 0/05FFFF00, desc: RESTORE_POINT rp");
        newer.accept("rmgr: Transaction len (rec/tot):     34/    34, tx:        742, lsn: 0/07000028, prev 0/07000000, desc: COMMIT 2026-12-04 22:20:00 UTC");
        older.append(newer);
        assertEquals(List.of(740L, 741L, 742L), older.transactionEnds().stream().map(WalSummary.TransactionEnd::xid).toList());
        assertEquals(1, older.restorePoints().size());
        assertEquals(0x07000028L, older.lastRecordLsn());
    }
}
