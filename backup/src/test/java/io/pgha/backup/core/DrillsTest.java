package io.pgha.backup.core;

import io.pgha.api.schedule.CronSchedule;
import io.pgha.api.v1.cluster.BackupStatus;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DrillsTest {
    private static final CronSchedule NIGHTLY = CronSchedule.parse("30 3 * * *");

    private static BackupInfo backup(String name, String started, String finished) {
        return new BackupInfo(name, "pg", 1, "0/1000028", "0/2000100", "000000010000000000000001",
                "000000010000000000000002", started, finished, 1, 1, "zstd", 150000);
    }

    @Test
    void aClusterNeverDrilledWaitsForTheFirstSlotAfterItWasFirstSeen() {
        Instant seen = Instant.parse("2026-12-05T03:40:00Z");
        assertFalse(Drills.due(NIGHTLY, Optional.empty(), seen, Instant.parse("2026-12-05T12:00:00Z")),
                "the 03:30 slot came before this service watched the cluster");
        assertTrue(Drills.due(NIGHTLY, Optional.empty(), seen, Instant.parse("2026-12-06T03:30:04Z")));
    }

    @Test
    void theLastDrillReadBackFromStatusDecidesAfterARestart() {
        BackupStatus status = new BackupStatus();
        status.lastVerifiedAt = "2026-12-05T03:30:40Z";
        status.lastDrillFailureAt = "2026-12-04T03:30:50Z";
        assertEquals(Instant.parse("2026-12-05T03:30:40Z"), Drills.lastDrill(status).orElseThrow(), "the later of the two");
        // restarted at 10:00 the same day: the 03:30 drill happened, nothing is due
        Instant restarted = Instant.parse("2026-12-05T10:00:00Z");
        assertFalse(Drills.due(NIGHTLY, Drills.lastDrill(status), restarted, restarted));
        // down from before 03:30 on the 6th until the 8th: one drill on return, not one per missed night
        Instant back = Instant.parse("2026-12-08T09:00:00Z");
        assertTrue(Drills.due(NIGHTLY, Drills.lastDrill(status), back, back));
        status.lastVerifiedAt = "2026-12-08T09:00:30Z";
        assertFalse(Drills.due(NIGHTLY, Drills.lastDrill(status), back, Instant.parse("2026-12-08T09:00:35Z")));
        assertTrue(Drills.lastDrill(new BackupStatus()).isEmpty());
        assertTrue(Drills.lastDrill(null).isEmpty());
    }

    @Test
    void aDrillVerifiesTheBackupThatEndedLast() {
        // b2 began later but ended first (a slow backup overtaken by a faster one)
        List<BackupInfo> completed = List.of(backup("b1", "2026-12-05T01:00:00Z", "2026-12-05T01:40:00Z"),
                backup("b2", "2026-12-05T01:10:00Z", "2026-12-05T01:20:00Z"));
        assertEquals("b1", Drills.subject(completed).orElseThrow().name());
        assertTrue(Drills.subject(List.of()).isEmpty());
    }

    @Test
    void aPassedDrillRecordsItsBackupAndAFailedOneItsProblemKeepingTheOther() {
        BackupStatus status = new BackupStatus();
        Drills.record(status, "pg-20261205t010000z", Optional.empty(), Instant.parse("2026-12-05T03:30:41.734Z"));
        assertEquals("pg-20261205t010000z", status.lastVerifiedBackup);
        assertEquals("2026-12-05T03:30:41Z", status.lastVerifiedAt);
        assertNull(status.lastDrillFailure);

        Drills.record(status, "pg-20261206t010000z", Optional.of("WAL segment 000000010000000000000007 of backup "
                + "pg-20261206t010000z's range is missing from the archive"), Instant.parse("2026-12-06T03:30:12Z"));
        assertEquals("pg-20261205t010000z", status.lastVerifiedBackup, "the last success stays");
        assertEquals("WAL segment 000000010000000000000007 of backup pg-20261206t010000z's range is missing from the archive",
                status.lastDrillFailure);
        assertEquals("2026-12-06T03:30:12Z", status.lastDrillFailureAt);

        Drills.record(status, "pg-20261207t010000z", Optional.of("cannot read the repository: timed out"),
                Instant.parse("2026-12-07T03:30:12Z"));
        assertEquals("backup pg-20261207t010000z: cannot read the repository: timed out", status.lastDrillFailure,
                "a problem that does not name the backup is prefixed with it");
    }

    @Test
    void theNewestDrillRecordedAnswersForItsBackupOnly() {
        BackupStatus status = new BackupStatus();
        assertTrue(Drills.newestOf(status, "pg-a").isEmpty(), "no drill yet");
        Drills.record(status, "pg-a", Optional.empty(), Instant.parse("2026-12-05T03:30:41Z"));
        assertEquals(Optional.of(Optional.empty()), Drills.newestOf(status, "pg-a"), "passed");
        assertTrue(Drills.newestOf(status, "pg-b").isEmpty(), "another backup's drill says nothing of pg-b");
        Drills.record(status, "pg-b", Optional.of("file base.tar.zst of backup pg-b: checksum mismatch"), Instant.parse("2026-12-06T03:30:12Z"));
        assertEquals(Optional.of(Optional.of("file base.tar.zst of backup pg-b: checksum mismatch")), Drills.newestOf(status, "pg-b"));
        assertTrue(Drills.newestOf(status, "pg-a").isEmpty(), "pg-a's pass is no longer the newest drill");
        assertTrue(Drills.newestOf(null, "pg-a").isEmpty());
    }
}
