package io.pgha.backup.core;

import io.pgha.api.postgres.Lsn;
import io.pgha.api.v1.cluster.TopologyStatus;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;

/** The base backup decisions: names, source instance, WAL ranges and their completeness, phases, backup.json. */
class BackupCoreTest {
    private static final long SEG = 16L * 1024 * 1024;

    @Test
    void segmentNamesFromLsnsAsPostgresWritesThem() {
        assertEquals("000000010000000000000002", WalFileName.segmentOf(1, Lsn.parse("0/2000028"), SEG).name());
        assertEquals("00000003000000010000000F", WalFileName.segmentOf(3, Lsn.parse("1/0F000000"), SEG).name());
        // the last segment of a log is followed by the first of the next
        assertEquals("000000010000000100000000", WalFileName.parse("0000000100000000000000FF").next(SEG).name());
        // a range that ends on a segment boundary touches nothing of the segment that starts there
        assertEquals("000000010000000000000002", WalFileName.segmentBefore(1, Lsn.parse("0/3000000"), SEG).name());
        assertEquals("000000010000000000000003", WalFileName.segmentBefore(1, Lsn.parse("0/3000001"), SEG).name());
        // 64 MiB segments: 64 per 4 GiB log
        assertEquals("00000001000000010000003F", WalFileName.segmentOf(1, Lsn.parse("1/FC000000"), 64 * 1024 * 1024).name());
        assertThrows(IllegalArgumentException.class, () -> WalFileName.segmentOf(1, Lsn.ZERO, 3_000_000));
    }

    @Test
    void aBackupIsCompleteOnlyWithEverySegmentOfItsWalRange() {
        List<WalRange> ranges = List.of(new WalRange(1, Lsn.parse("0/2000028"), Lsn.parse("0/4000100")));
        assertEquals(List.of("000000010000000000000002", "000000010000000000000003", "000000010000000000000004"),
                ranges.get(0).segments(SEG).stream().map(WalFileName::name).toList());
        Set<WalFileName> archived = Set.of(WalFileName.parse("000000010000000000000002"), WalFileName.parse("000000010000000000000004"));
        assertEquals("000000010000000000000003", WalRange.firstMissing(ranges, SEG, archived).orElseThrow().name());
        Set<WalFileName> all = Set.of(WalFileName.parse("000000010000000000000002"), WalFileName.parse("000000010000000000000003"),
                WalFileName.parse("000000010000000000000004"));
        assertTrue(WalRange.firstMissing(ranges, SEG, all).isEmpty());
        // a segment of the same number on another timeline is not the one the backup needs
        assertEquals("000000010000000000000002", WalRange.firstMissing(ranges, SEG,
                Set.of(WalFileName.parse("000000020000000000000002"))).orElseThrow().name());
        assertThrows(IllegalArgumentException.class, () -> new WalRange(1, Lsn.parse("0/5"), Lsn.parse("0/4")));
    }

    /**
     * A standby's backup taken just after a WAL switch ends at the next segment's first byte;
     * restoring it to its end reads the record there (the drill that found this failed with
     * "recovery ended before configured recovery target was reached", the segment missing).
     */
    @Test
    void aBackupEndingOnASegmentBoundaryAlsoNeedsTheSegmentThatStartsThere() {
        List<WalRange> ranges = List.of(new WalRange(3, Lsn.parse("0/8000028"), Lsn.parse("0/9000000")));
        assertEquals(List.of("000000030000000000000008", "000000030000000000000009"),
                WalRange.needed(ranges, SEG).stream().map(WalFileName::name).toList());
        assertEquals("000000030000000000000009",
                WalRange.firstMissing(ranges, SEG, Set.of(WalFileName.parse("000000030000000000000008"))).orElseThrow().name());
        // a timeline's range that ends at the switch to the next needs no more of the old timeline
        List<WalRange> switched = List.of(new WalRange(2, Lsn.parse("0/6000028"), Lsn.parse("0/7000000")),
                new WalRange(3, Lsn.parse("0/7000000"), Lsn.parse("0/7000100")));
        assertEquals(List.of("000000020000000000000006", "000000030000000000000007"),
                WalRange.needed(switched, SEG).stream().map(WalFileName::name).toList());
        // an end inside a segment needs that segment only
        assertEquals(List.of("000000010000000000000002"),
                WalRange.needed(List.of(new WalRange(1, Lsn.parse("0/2000028"), Lsn.parse("0/2000100"))), SEG).stream()
                        .map(WalFileName::name).toList());
    }

    @Test
    void walRangesComeFromTheManifest() {
        String manifest = """
                { "PostgreSQL-Backup-Manifest-Version": 1,
                "Files": [ { "Path": "backup_label", "Size": 225, "Last-Modified": "2026-12-04 22:30:00 GMT" } ],
                "WAL-Ranges": [
                { "Timeline": 2, "Start-LSN": "0/5000028", "End-LSN": "0/5000138" }
                ],
                "Manifest-Checksum": "ab"}
                """;
        assertEquals(List.of(new WalRange(2, Lsn.parse("0/5000028"), Lsn.parse("0/5000138"))),
                BackupManifest.walRanges(manifest.getBytes(StandardCharsets.UTF_8)));
        IllegalArgumentException none = assertThrows(IllegalArgumentException.class,
                () -> BackupManifest.walRanges("{\"Files\": []}".getBytes(StandardCharsets.UTF_8)));
        assertTrue(none.getMessage().contains("WAL-Ranges"), none.getMessage());
        assertThrows(IllegalArgumentException.class, () -> BackupManifest.walRanges("not json".getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void namesAreKubernetesNamesInUtcAndNeverReused() {
        Instant t = Instant.parse("2026-12-04T22:30:00.700Z");
        assertEquals("pg-20261204t223000z", BackupNames.next("pg", t, Set.of()));
        assertEquals("pg-20261204t223001z", BackupNames.next("pg", t, Set.of("pg-20261204t223000z")));
        assertTrue(BackupNames.next("pg", t, Set.of()).matches("[a-z0-9]([-a-z0-9]*[a-z0-9])?"));
    }

    private static TopologyStatus.Instance instance(String name, String role, boolean healthy, Long lag) {
        TopologyStatus.Instance i = new TopologyStatus.Instance();
        i.name = name;
        i.role = role;
        i.healthy = healthy;
        i.timeline = 1;
        i.receiveLsn = "0/3000000";
        i.lagBytes = lag;
        return i;
    }

    private static TopologyStatus topology(TopologyStatus.Instance... instances) {
        TopologyStatus t = new TopologyStatus();
        t.currentPrimary = "pg-1";
        t.timeline = 1;
        t.instances = List.of(instances);
        return t;
    }

    @Test
    void backsUpFromTheLeastLaggingHealthyStandbyElseFromThePrimary() {
        TopologyStatus.Instance primary = instance("pg-1", TopologyStatus.ROLE_PRIMARY, true, null);
        assertEquals(new BackupSource("pg-3", "pg-1", true), BackupSource.choose(topology(primary,
                instance("pg-2", TopologyStatus.ROLE_STANDBY, true, 5000L), instance("pg-3", TopologyStatus.ROLE_STANDBY, true, 0L))));
        // an unhealthy standby, one on an old timeline and a fenced one are no source
        TopologyStatus.Instance oldTimeline = instance("pg-3", TopologyStatus.ROLE_STANDBY, true, 0L);
        oldTimeline.timeline = 0;
        TopologyStatus t = topology(primary, instance("pg-2", TopologyStatus.ROLE_STANDBY, false, 0L), oldTimeline,
                instance("pg-4", TopologyStatus.ROLE_STANDBY, true, 0L));
        t.fenced = List.of("pg-4");
        assertEquals(new BackupSource("pg-1", "pg-1", false), BackupSource.choose(t));
        IllegalStateException down = assertThrows(IllegalStateException.class, () -> BackupSource.choose(topology(
                instance("pg-1", TopologyStatus.ROLE_PRIMARY, false, null))));
        assertTrue(down.getMessage().contains("pg-1"), down.getMessage());
        assertThrows(IllegalStateException.class, () -> BackupSource.choose(new TopologyStatus()));
        assertThrows(IllegalStateException.class, () -> BackupSource.choose(null));
    }

    @Test
    void phasesOnlyMoveForwardAndARunningBackupDiesWithItsService() {
        assertTrue(BackupPhase.PENDING.canMoveTo(BackupPhase.RUNNING));
        assertTrue(BackupPhase.RUNNING.canMoveTo(BackupPhase.COMPLETED));
        assertTrue(BackupPhase.RUNNING.canMoveTo(BackupPhase.FAILED));
        assertFalse(BackupPhase.PENDING.canMoveTo(BackupPhase.COMPLETED));
        assertFalse(BackupPhase.COMPLETED.canMoveTo(BackupPhase.FAILED));
        assertFalse(BackupPhase.FAILED.canMoveTo(BackupPhase.RUNNING));
        assertEquals(BackupPhase.FAILED, BackupPhase.RUNNING.afterRestart());
        assertEquals(BackupPhase.FAILED, BackupPhase.PENDING.afterRestart());
        assertEquals(BackupPhase.COMPLETED, BackupPhase.COMPLETED.afterRestart());
        assertEquals(BackupPhase.RUNNING, BackupPhase.of("Running"));
    }

    @Test
    void backupJsonRoundTripsAndTheWindowStartsAtTheEndOfTheOldestBackup() {
        BackupInfo older = new BackupInfo("pg-20261204t100000z", "pg", 1, "0/2000028", "0/2000100",
                "000000010000000000000002", "000000010000000000000002", "2026-12-04T10:00:00Z", "2026-12-04T10:00:09Z",
                1234, 40000, "zstd", 150012);
        BackupInfo newer = new BackupInfo("pg-20261204t110000z", "pg", 1, "0/5000028", "0/5000100",
                "000000010000000000000005", "000000010000000000000005", "2026-12-04T11:00:00Z", "2026-12-04T11:00:07Z",
                1234, 40000, "zstd", 150012);
        assertEquals(older, BackupInfo.fromJson(older.name(), older.toJson()));
        String json = new String(older.toJson(), StandardCharsets.UTF_8);
        assertTrue(json.indexOf("\"name\"") < json.indexOf("\"pgVersion\""), json);
        assertTrue(json.contains("\"timeline\" : 1"), json);
        assertEquals(Instant.parse("2026-12-04T10:00:09Z"), BackupInfo.recoverableFrom(List.of(newer, older)).orElseThrow());
        assertTrue(BackupInfo.recoverableFrom(List.of()).isEmpty());
        IllegalArgumentException bad = assertThrows(IllegalArgumentException.class, () -> BackupInfo.fromJson("b", new byte[] {'x'}));
        assertTrue(bad.getMessage().contains("backup b"), bad.getMessage());
    }

    @Test
    void theArchiveReachesTheLastCommitOrAbortPgWaldumpShows() {
        String out = """
                rmgr: Heap        len (rec/tot):     54/   150, tx:        735, lsn: 0/03000060, prev 0/03000028, desc: INSERT off 2 flags 0x00
                rmgr: Transaction len (rec/tot):     34/    34, tx:        735, lsn: 0/030000F8, prev 0/03000060, desc: COMMIT 2026-12-04 22:30:00.123456 UTC
                rmgr: Transaction len (rec/tot):     34/    34, tx:        736, lsn: 0/03000120, prev 0/030000F8, desc: ABORT 2026-12-04 22:30:05.5 UTC
                rmgr: Standby     len (rec/tot):     50/    50, tx:          0, lsn: 0/03000148, prev 0/03000120, desc: RUNNING_XACTS nextXid 737
                pg_waldump: error: error in WAL record at 0/3000148: invalid record length at 0/3000180: wanted 24, got 0
                """;
        assertEquals(Instant.parse("2026-12-04T22:30:05.500Z"), WalDumpOutput.lastTransactionEnd(out).orElseThrow());
        assertTrue(WalDumpOutput.lastTransactionEnd("rmgr: XLOG desc: SWITCH\n").isEmpty());
        // a prepared transaction's COMMIT_PREPARED is a commit too
        assertEquals(Instant.parse("2026-12-04T22:31:00Z"), WalDumpOutput.lastTransactionEnd(
                "rmgr: Transaction len (rec/tot): 1/1, tx: 9, lsn: 0/1, prev 0/0, desc: COMMIT_PREPARED 9: 2026-12-04 22:31:00 UTC").orElseThrow());
    }
}
