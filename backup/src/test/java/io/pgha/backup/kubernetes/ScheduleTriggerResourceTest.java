package io.pgha.backup.kubernetes;

import io.pgha.api.v1.backup.PostgresBackupStatus;
import jakarta.ws.rs.core.Response;
import org.junit.jupiter.api.Test;

import java.util.concurrent.CompletionException;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The schedule trigger's answer once its wait for a backup is over (the mock-server test runs the rest). */
class ScheduleTriggerResourceTest {
    @Test
    void completedIs200StillRunningIs202AndFailedOrGoneIs500WithTheReason() {
        PostgresBackupStatus completed = new PostgresBackupStatus();
        completed.phase = PostgresBackupStatus.PHASE_COMPLETED;
        Response ok = ScheduleTriggerResource.answer("db/pg", "pg-1", completed, null);
        assertEquals(200, ok.getStatus());
        assertEquals("backup pg-1 of cluster db/pg completed\n", ok.getEntity());

        // the wait ran out (null status): the caller calls again and waits on
        Response running = ScheduleTriggerResource.answer("db/pg", "pg-1", null, null);
        assertEquals(202, running.getStatus());
        assertEquals("backup pg-1 of cluster db/pg still runs; call again to wait on\n", running.getEntity());

        PostgresBackupStatus failed = new PostgresBackupStatus();
        failed.phase = PostgresBackupStatus.PHASE_FAILED;
        failed.error = "instance pg-1 refused the login";
        Response no = ScheduleTriggerResource.answer("db/pg", "pg-1", failed, null);
        assertEquals(500, no.getStatus());
        assertEquals("backup pg-1 of cluster db/pg failed: instance pg-1 refused the login\n", no.getEntity());

        Response gone = ScheduleTriggerResource.answer("db/pg", "pg-1", null,
                new CompletionException(new IllegalStateException("PostgresBackup db/pg-1 was deleted before it ended")));
        assertEquals(500, gone.getStatus());
        assertEquals("backup pg-1 of cluster db/pg: PostgresBackup db/pg-1 was deleted before it ended\n", gone.getEntity());
    }
}
