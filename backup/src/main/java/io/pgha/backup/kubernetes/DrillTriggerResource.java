package io.pgha.backup.kubernetes;

import io.pgha.api.ClusterNames;
import io.pgha.backup.service.BackupVerifier;
import io.smallrye.common.annotation.Blocking;
import io.vertx.core.http.HttpServerRequest;
import jakarta.inject.Inject;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import org.eclipse.microprofile.config.inject.ConfigProperty;

import java.io.IOException;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;

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
public class DrillTriggerResource {
    private static final String WHAT = "drill trigger";

    @Inject
    KubernetesBackupService service;

    /** How long one call waits for the drill it serves before answering 202 (the caller then calls again). */
    @ConfigProperty(name = "pgha.backup.trigger.wait", defaultValue = "9m")
    Duration wait;

    @POST
    @Blocking
    @Produces(MediaType.TEXT_PLAIN)
    public CompletionStage<Response> trigger(@PathParam("namespace") String namespace, @PathParam("cluster") String cluster,
                                             @QueryParam("backup") String waitFor,
                                             @HeaderParam(HttpHeaders.AUTHORIZATION) String authorization,
                                             @Context HttpServerRequest request) {
        Optional<KubernetesBackups> adapter = service.adapter();
        Optional<Response> refused = TriggerAccess.refusal(adapter, WHAT, namespace, cluster, authorization, request);
        if (refused.isPresent()) {
            return CompletableFuture.completedFuture(refused.get());
        }
        String key = namespace + "/" + cluster;
        Optional<KubernetesDrills.Running> drill;
        try {
            if (waitFor == null) {
                drill = adapter.get().runDrill(namespace, cluster);
            } else {
                // a call that waits on: the slot was served by that drill, the schedule is not looked at again
                KubernetesBackups.DrillWait found = adapter.get().drillOf(namespace, cluster, waitFor);
                if (found.running().isEmpty()) {
                    return done(ended(key, new BackupVerifier.Outcome(waitFor, found.recorded().orElseThrow())));
                }
                drill = found.running();
            }
        } catch (IllegalArgumentException e) {
            return done(text(Response.Status.NOT_FOUND, WHAT + " of cluster " + key + ": " + e.getMessage()));
        } catch (IOException | RuntimeException e) {
            return done(text(Response.Status.INTERNAL_SERVER_ERROR, WHAT + " of cluster " + key + ": " + e.getMessage()));
        }
        if (drill.isEmpty()) {
            return done(text(Response.Status.OK, "no restore drill due for cluster " + key + " (or no completed backup to drill) and none running"));
        }
        KubernetesDrills.Running running = drill.get();
        // a copy: the timeout must not end the wait of other calls for the same drill
        return running.ended.copy()
                .completeOnTimeout(null, wait.toMillis(), TimeUnit.MILLISECONDS)
                .handle((outcome, failure) -> answer(key, running.backup(), outcome, failure));
    }

    /**
     * The answer once the wait for the drill of backup {@code backup} is over: ended (with its
     * outcome, empty when there was no completed backup to drill after all), timed out (null), or failed.
     */
    static Response answer(String cluster, String backup, Optional<BackupVerifier.Outcome> outcome, Throwable failure) {
        if (failure != null) {
            Throwable cause = failure instanceof CompletionException && failure.getCause() != null ? failure.getCause() : failure;
            return text(Response.Status.INTERNAL_SERVER_ERROR, "restore drill of cluster " + cluster + ": " + cause.getMessage());
        }
        if (outcome == null) {
            return Response.fromResponse(text(Response.Status.ACCEPTED, "restore drill of backup " + backup + " of cluster " + cluster
                    + " still runs; call again to wait on")).header(ScheduleTriggerResource.BACKUP_HEADER, backup).build();
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

    private static CompletionStage<Response> done(Response answer) {
        return CompletableFuture.completedFuture(answer);
    }
}
