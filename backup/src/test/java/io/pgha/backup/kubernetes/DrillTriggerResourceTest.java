package io.pgha.backup.kubernetes;

import io.pgha.backup.service.BackupVerifier;
import jakarta.ws.rs.core.Response;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.Optional;
import java.util.concurrent.CompletionException;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The drill trigger's answer once its wait for a drill is over (the mock-server test runs the rest). */
class DrillTriggerResourceTest {
    @Test
    void passedIs200StillRunningIs202NamingTheBackupAndFailedIs500WithTheProblem() {
        Response passed = DrillTriggerResource.answer("db/pg", "pg-1", Optional.of(new BackupVerifier.Outcome("pg-1", Optional.empty())), null);
        assertEquals(200, passed.getStatus());
        assertEquals("restore drill of backup pg-1 of cluster db/pg passed\n", passed.getEntity());

        // the wait ran out (null outcome): the caller calls again with ?backup= and waits on
        Response running = DrillTriggerResource.answer("db/pg", "pg-1", null, null);
        assertEquals(202, running.getStatus());
        assertEquals("pg-1", running.getHeaderString(ScheduleTriggerResource.BACKUP_HEADER));
        assertEquals("restore drill of backup pg-1 of cluster db/pg still runs; call again to wait on\n", running.getEntity());

        Response failed = DrillTriggerResource.answer("db/pg", "pg-1", Optional.of(new BackupVerifier.Outcome("pg-1",
                Optional.of("WAL segment 000000010000000000000007 after backup pg-1 is missing from the archive"))), null);
        assertEquals(500, failed.getStatus());
        assertEquals("restore drill of backup pg-1 of cluster db/pg failed: WAL segment 000000010000000000000007 after backup pg-1 "
                + "is missing from the archive\n", failed.getEntity());

        // the backup went before the drill took its lease: nothing to drill, which is no failure of a drill
        Response nothing = DrillTriggerResource.answer("db/pg", "pg-1", Optional.empty(), null);
        assertEquals(200, nothing.getStatus());

        Response unreadable = DrillTriggerResource.answer("db/pg", "pg-1", null,
                new CompletionException(new IOException("cannot list the repository: timed out")));
        assertEquals(500, unreadable.getStatus());
        assertEquals("restore drill of cluster db/pg: cannot list the repository: timed out\n", unreadable.getEntity());
    }
}
