package io.pgha.backup.kubernetes;

import io.pgha.api.ClusterNames;
import io.pgha.backup.service.BackupVerifier;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.core.Response;

import java.io.IOException;
import java.util.Optional;
import java.util.concurrent.CompletionStage;

import static io.pgha.backup.service.WalAnswers.text;

/**
 * What the verify CronJob ({@link ClusterNames#backupVerifyCronJob}) calls at each slot of a
 * cluster's {@code spec.backup.verify} when the backup service runs as a Knative Service: the call
 * wakes it, and it runs the restore drill that is due ({@link KubernetesDrills}; the service's own
 * rounds start none there, since a drill needs a request in flight to keep the pod). The same
 * caller check as the schedule trigger ({@link TriggerAccess}): the cluster's WAL token, whose holder
 * can only make the service run the drill that is due. The answer comes when the drill has ended:
 * 200 when it passed (or nothing was due), 500 with the problem (naming the file or segment) when
 * it failed, and 202 after {@code pgha.backup.trigger.wait}, naming the backup being drilled in
 * {@value ScheduleTriggerResource#BACKUP_HEADER}, as the schedule trigger does, so that the same
 * backup-trigger.sh calls again with {@code ?backup=<name>} and waits on that drill.
 */
@Path(ClusterNames.DRILL_TRIGGER_ROOT + "/{namespace}/{cluster}")
public class DrillTriggerResource extends TriggerResource {
    public DrillTriggerResource() {
        super("drill trigger");
    }

    @Override
    CompletionStage<Response> serve(KubernetesBackups adapter, String namespace, String cluster, String waitFor) {
        String key = namespace + "/" + cluster;
        Optional<KubernetesDrills.Running> drill;
        try {
            if (waitFor == null) {
                drill = adapter.runDrill(namespace, cluster);
            } else {
                // a call that waits on: the slot was served by that drill, the schedule is not looked at again
                KubernetesBackups.DrillWait found = adapter.drillOf(namespace, cluster, waitFor);
                if (found.running().isEmpty()) {
                    return done(ended(key, new BackupVerifier.Outcome(waitFor, found.recorded().orElseThrow())));
                }
                drill = found.running();
            }
        } catch (IllegalArgumentException e) {
            return done(text(Response.Status.NOT_FOUND, what + " of cluster " + key + ": " + e.getMessage()));
        } catch (IOException | RuntimeException e) {
            return done(text(Response.Status.INTERNAL_SERVER_ERROR, what + " of cluster " + key + ": " + e.getMessage()));
        }
        if (drill.isEmpty()) {
            return done(text(Response.Status.OK, "no restore drill due for cluster " + key + " (or no completed backup to drill) and none running"));
        }
        KubernetesDrills.Running running = drill.get();
        return answerWhenEnded(running.ended, (outcome, failure) -> answer(key, running.backup(), outcome, failure));
    }

    /**
     * The answer once the wait for the drill of backup {@code backup} is over: ended (with its
     * outcome, empty when there was no completed backup to drill after all), timed out (null), or failed.
     */
    static Response answer(String cluster, String backup, Optional<BackupVerifier.Outcome> outcome, Throwable failure) {
        if (failure != null) {
            return text(Response.Status.INTERNAL_SERVER_ERROR, "restore drill of cluster " + cluster + ": " + cause(failure).getMessage());
        }
        if (outcome == null) {
            return stillRuns("restore drill of backup " + backup + " of cluster " + cluster, backup);
        }
        if (outcome.isEmpty()) {
            return text(Response.Status.OK, "no completed backup of cluster " + cluster + " to drill yet");
        }
        return ended(cluster, outcome.get());
    }

    private static Response ended(String cluster, BackupVerifier.Outcome o) {
        if (o.problem().isEmpty()) {
            return text(Response.Status.OK, "restore drill of backup " + o.backup() + " of cluster " + cluster + " passed");
        }
        return text(Response.Status.INTERNAL_SERVER_ERROR, "restore drill of backup " + o.backup() + " of cluster " + cluster
                + " failed: " + o.problem().get());
    }
}
