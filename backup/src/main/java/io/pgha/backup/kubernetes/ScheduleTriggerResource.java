package io.pgha.backup.kubernetes;

import io.pgha.api.ClusterNames;
import io.pgha.api.v1.backup.PostgresBackupStatus;
import io.pgha.backup.core.BackupPhase;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.core.Response;

import java.util.Optional;
import java.util.concurrent.CompletionStage;

import static io.pgha.backup.service.WalAnswers.text;

/**
 * What the schedule's CronJob ({@link ClusterNames#backupScheduleCronJob}) calls at each slot of a
 * cluster's {@code spec.backup.schedule} when the backup service runs as a Knative Service, whose
 * clock stops while it is scaled to zero: the call wakes it, and it looks at the cluster's schedule
 * as a round would ({@link KubernetesSchedules}). The caller proves it speaks for the cluster with
 * the cluster's WAL token (the Secret {@link ClusterNames#walPushSecret}, checked by {@link TriggerAccess}); the holder can only make
 * the service run what the schedule says is due, never an extra backup. The answer comes when the
 * backup serving the slot has ended, so that the request in flight keeps Knative from scaling the
 * pod away in the middle of it: 200 once it completed or when nothing was due, 500 naming the
 * reason when it failed, and 202 when it still runs after {@code pgha.backup.trigger.wait} (shorter
 * than the Knative Service's {@code timeoutSeconds}), naming it in {@value #BACKUP_HEADER}; the caller
 * then calls again with {@code ?backup=<name>} and waits on that backup alone, so that its end, and a
 * failure, is still what the last answer reports (a plain call would find nothing due and succeed).
 */
@Path(ClusterNames.SCHEDULE_TRIGGER_ROOT + "/{namespace}/{cluster}")
public class ScheduleTriggerResource extends TriggerResource {
    /** The header of a 202 answer that names the backup still running, for the next call's {@code ?backup=}. */
    public static final String BACKUP_HEADER = "Pgha-Backup";

    public ScheduleTriggerResource() {
        super("schedule trigger");
    }

    @Override
    CompletionStage<Response> serve(KubernetesBackups adapter, String namespace, String cluster, String waitFor) {
        String key = namespace + "/" + cluster;
        Optional<String> backup;
        try {
            // a call that waits on: the slot was served by that backup, the schedule is not looked at again
            backup = waitFor == null ? adapter.runSchedule(namespace, cluster) : Optional.of(adapter.backupOf(namespace, cluster, waitFor));
        } catch (IllegalArgumentException e) {
            return done(text(Response.Status.NOT_FOUND, what + " of cluster " + key + ": " + e.getMessage()));
        } catch (IllegalStateException e) {
            return done(text(Response.Status.INTERNAL_SERVER_ERROR, what + " of cluster " + key + ": " + e.getMessage()));
        }
        if (backup.isEmpty()) {
            return done(text(Response.Status.OK, "nothing due for cluster " + key + " and none of its backups running"));
        }
        String name = backup.get();
        return answerWhenEnded(adapter.ended(namespace, name), (status, failure) -> answer(key, name, status, failure));
    }

    /** The answer once the wait for backup {@code name} is over: ended, timed out (null status), or gone. */
    static Response answer(String cluster, String name, PostgresBackupStatus status, Throwable failure) {
        if (failure != null) {
            return text(Response.Status.INTERNAL_SERVER_ERROR, "backup " + name + " of cluster " + cluster + ": " + cause(failure).getMessage());
        }
        if (status == null) {
            return stillRuns("backup " + name + " of cluster " + cluster, name);
        }
        if (BackupPhase.of(status.phase) == BackupPhase.COMPLETED) {
            return text(Response.Status.OK, "backup " + name + " of cluster " + cluster + " completed");
        }
        return text(Response.Status.INTERNAL_SERVER_ERROR, "backup " + name + " of cluster " + cluster + " failed: " + status.error);
    }
}
