package io.pgha.backup.core;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RetentionTest {
    private static final Instant NOW = Instant.parse("2026-12-05T12:00:00Z");

    /** A backup that ended {@code daysAgo} days before NOW, on {@code timeline}, beginning in segment {@code seg}. */
    private static BackupInfo backup(String name, int timeline, double daysAgo, int seg) {
        Instant end = NOW.minusSeconds((long) (daysAgo * 86400));
        String wal = String.format("%08X%08X%08X", timeline, 0, seg);
        return new BackupInfo(name, "pg", timeline, "0/1000028", "0/2000100", wal, wal, end.minusSeconds(60).toString(),
                end.toString(), 1, 1, "zstd", 150000);
    }

    private static List<String> names(List<BackupInfo> list) {
        return list.stream().map(BackupInfo::name).toList();
    }

    @Test
    void keepsTheWindowAndTheNewestBackupBeforeItAndRemovesOlderOnesWithTheirWal() {
        List<BackupInfo> all = List.of(backup("b1", 1, 10, 0x10), backup("b2", 1, 8, 0x20), backup("b3", 1, 6, 0x30),
                backup("b4", 1, 2, 0x40));
        Retention.Plan p = Retention.plan(all, Duration.ofDays(5), 1, NOW);
        // b3 ended before the window (5 days) but a restore to its start needs it
        assertEquals(List.of("b3", "b4"), names(p.kept()));
        assertEquals(List.of("b1", "b2"), names(p.expired()));
        assertEquals("000000010000000000000030", p.oldestWalNeeded().orElseThrow().name());
        assertEquals(Instant.parse(backup("b3", 1, 6, 0x30).finishedAt()), p.windowStart().orElseThrow());
        assertTrue(p.walExpired(WalFileName.parse("00000001000000000000002F")));
        assertFalse(p.walExpired(WalFileName.parse("000000010000000000000030")));
        assertTrue(p.walExpired(WalFileName.parse("000000010000000000000012.00000028.backup")));
        assertFalse(p.walExpired(WalFileName.parse("00000002.history")), "history files are always kept");
    }

    @Test
    void theMinimumCountKeepsOldBackups() {
        List<BackupInfo> all = List.of(backup("b1", 1, 30, 0x10), backup("b2", 1, 20, 0x20), backup("b3", 1, 10, 0x30));
        Retention.Plan p = Retention.plan(all, Duration.ofDays(1), 2, NOW);
        assertEquals(List.of("b2", "b3"), names(p.kept()));
        assertEquals(List.of("b1"), names(p.expired()));
    }

    @Test
    void ordersByEndAcrossTimelinesSoANewerBackupOnAnOlderTimelineNumberIsNotLost() {
        // after a failover to timeline 2 and a restore-and-rename back, the newest backup may carry the lower timeline
        List<BackupInfo> all = List.of(backup("old-tl3", 3, 20, 0x10), backup("newer-tl2", 2, 15, 0x50),
                backup("newest-tl1", 1, 3, 0x90));
        Retention.Plan p = Retention.plan(all, Duration.ofDays(1), 1, NOW);
        assertEquals(List.of("newest-tl1"), names(p.kept()));
        assertFalse(p.walExpired(WalFileName.parse("000000030000000000000090")), "WAL at the kept position on any timeline stays");
        assertTrue(p.walExpired(WalFileName.parse("000000030000000000000050")));
    }

    @Test
    void withNoBackupNothingIsRemoved() {
        Retention.Plan p = Retention.plan(List.of(), Duration.ofDays(1), 1, NOW);
        assertTrue(p.expired().isEmpty());
        assertFalse(p.walExpired(WalFileName.parse("000000010000000000000001")));
        assertThrows(IllegalArgumentException.class, () -> Retention.plan(List.of(), Duration.ofDays(1), 0, NOW));
    }
}
