package io.pgha.backup.core;

import io.pgha.api.postgres.Lsn;
import org.junit.jupiter.api.Test;

import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

/** Logs of PostgreSQL 15.18 drill servers (lc_messages=C, empty log_line_prefix), as they were written here. */
class RecoveryLogTest {
    private static final Lsn END = Lsn.parse("0/2000100");
    private static final String START = """
            LOG:  starting PostgreSQL 15.18 (Debian 15.18-0+deb12u1) on x86_64-pc-linux-gnu, compiled by gcc (Debian 12.2.0-14+deb12u1) 12.2.0, 64-bit
            LOG:  listening on Unix socket "/tmp/drillexp/.s.PGSQL.25432"
            LOG:  database system was interrupted; last known up at 2026-12-05 07:50:02 GMT
            LOG:  starting point-in-time recovery to earliest consistent point
            LOG:  starting backup recovery with redo LSN 0/2000028, checkpoint LSN 0/2000060, on timeline ID 1
            """;
    private static final String FAILED_AT_CHECKPOINT = """
            LOG:  invalid checkpoint record
            FATAL:  could not locate required checkpoint record
            HINT:  If you are restoring from a backup, touch "/tmp/drillexp/d2/recovery.signal" and add required recovery options.
            \tIf you are not restoring from a backup, try removing the file "/tmp/drillexp/d2/backup_label".
            \tBe careful: removing "/tmp/drillexp/d2/backup_label" will result in a corrupt cluster if restoring from a backup.
            LOG:  startup process (PID 28563) exited with exit code 1
            LOG:  terminating any other active server processes
            LOG:  shutting down due to startup process failure
            LOG:  database system is shut down
            """;

    private static RecoveryLog read(String log) {
        RecoveryLog r = new RecoveryLog();
        log.lines().forEach(r::accept);
        return r;
    }

    @Test
    void consistentAtTheBackupsEndAndStoppedThere() {
        RecoveryLog r = read(START + """
                LOG:  restored log file "000000010000000000000002" from archive
                LOG:  redo starts at 0/2000028
                """);
        assertEquals(new RecoveryLog.Replaying(Optional.of("000000010000000000000002")), r.verdict(END, false));
        r.accept("not in the archive (beyond its end): 000000010000000000000003");
        r.accept("LOG:  completed backup recovery with redo LSN 0/2000028 and end LSN 0/2000100");
        r.accept("LOG:  consistent recovery state reached at 0/2000100");
        assertInstanceOf(RecoveryLog.Replaying.class, r.verdict(END, false), "not yet stopped at the target");
        r.accept("LOG:  recovery stopping after reaching consistency");
        r.accept("LOG:  shutdown at recovery target");
        assertEquals(new RecoveryLog.Consistent(END), r.verdict(END, false));
        assertEquals(new RecoveryLog.Consistent(END), r.verdict(END, true));
    }

    @Test
    void aCorruptPageHeaderNamesTheSegmentAndTheFirstComplaint() {
        RecoveryLog r = read(START + """
                LOG:  restored log file "000000010000000000000002" from archive
                LOG:  invalid magic number D145 in log segment 000000010000000000000002, offset 0
                """ + FAILED_AT_CHECKPOINT);
        assertEquals(new RecoveryLog.Failed("recovery failed in WAL segment 000000010000000000000002: could not locate required "
                + "checkpoint record (invalid magic number D145 in log segment 000000010000000000000002, offset 0)"), r.verdict(END, true));
        assertEquals(r.verdict(END, true), r.verdict(END, false), "a FATAL decides before the server is gone");
    }

    @Test
    void aCorruptRecordNamesItsLsn() {
        RecoveryLog r = read(START + """
                LOG:  restored log file "000000010000000000000002" from archive
                LOG:  incorrect resource manager data checksum in record at 0/2000060
                """ + FAILED_AT_CHECKPOINT);
        assertEquals(new RecoveryLog.Failed("recovery failed in WAL segment 000000010000000000000002: could not locate required "
                + "checkpoint record (incorrect resource manager data checksum in record at 0/2000060)"), r.verdict(END, true));
    }

    @Test
    void aSegmentTheArchiveCouldNotServeCarriesTheServicesReason() {
        RecoveryLog r = read(START + """
                curl: (22) The requested URL returned error: 500
                could not fetch 000000010000000000000002 of cluster pg: checksum mismatch in repository object pg/wal/00000001/000000010000000000000002.zst
                """ + FAILED_AT_CHECKPOINT);
        RecoveryLog.Failed f = assertInstanceOf(RecoveryLog.Failed.class, r.verdict(END, true));
        assertEquals("recovery failed before any WAL segment was restored: could not locate required checkpoint record "
                + "(invalid checkpoint record) (restore_command said: could not fetch 000000010000000000000002 of cluster pg: checksum "
                + "mismatch in repository object pg/wal/00000001/000000010000000000000002.zst)", f.message());
    }

    @Test
    void aServerGoneWithoutAFatalOrConsistentTooEarlyIsAFailure() {
        RecoveryLog r = read(START + "LOG:  restored log file \"000000010000000000000002\" from archive\n");
        assertEquals(new RecoveryLog.Failed("recovery failed in WAL segment 000000010000000000000002: the server stopped "
                + "without reaching a consistent state"), r.verdict(END, true));
        r.accept("LOG:  consistent recovery state reached at 0/2000090");
        r.accept("LOG:  recovery stopping after reaching consistency");
        assertEquals(new RecoveryLog.Failed("recovery failed in WAL segment 000000010000000000000002: consistent only at "
                + "0/2000090, before the backup's end 0/2000100"), r.verdict(END, true));
    }
}
