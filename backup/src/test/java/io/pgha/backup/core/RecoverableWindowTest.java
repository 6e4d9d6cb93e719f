package io.pgha.backup.core;

import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RecoverableWindowTest {
    private static BackupInfo backup(String name, String startedAt, String finishedAt) {
        return new BackupInfo(name, "pg", 1, "0/2000028", "0/3000100", "000000010000000000000002",
                "000000010000000000000003", startedAt, finishedAt, 100, 1000, "zstd", 15);
    }

    private static final List<BackupInfo> BACKUPS = List.of(
            backup("pg-20261205t010010z", "2026-12-05T01:00:10Z", "2026-12-05T01:00:20Z"),
            backup("pg-20261205t020000z", "2026-12-05T02:00:00Z", "2026-12-05T02:00:05Z"));

    @Test
    void noWindowWithoutACompletedBackup() {
        assertTrue(RecoverableWindow.of(List.of(), Optional.of(Instant.parse("2026-12-05T01:00:00Z"))).isEmpty());
    }

    @Test
    void fromTheEndOfTheOldestBackupToTheLastCommit() {
        RecoverableWindow w = RecoverableWindow.of(BACKUPS, Optional.of(Instant.parse("2026-12-05T03:00:00Z"))).orElseThrow();
        assertEquals(Instant.parse("2026-12-05T01:00:20Z"), w.from());
        assertEquals(Instant.parse("2026-12-05T03:00:00Z"), w.to());
    }

    /**
     * Rows written, then a backup, then nothing: the last commit in the archive is older than the
     * backup's end, and a restore to the end of the archive gives the state at the backup's end.
     */
    @Test
    void toIsNeverBeforeFromWhenNothingCommittedAfterTheFirstBackup() {
        RecoverableWindow w = RecoverableWindow.of(BACKUPS, Optional.of(Instant.parse("2026-12-05T01:00:12Z"))).orElseThrow();
        assertEquals(w.from(), w.to());
        RecoverableWindow none = RecoverableWindow.of(BACKUPS, Optional.empty()).orElseThrow();
        assertEquals(none.from(), none.to());
    }
}
