package io.pgha.backup.kubernetes;

import io.smallrye.common.annotation.Blocking;
import io.vertx.core.http.HttpServerRequest;
import jakarta.inject.Inject;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import org.eclipse.microprofile.config.inject.ConfigProperty;

import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.function.BiFunction;

import static io.pgha.backup.service.WalAnswers.text;

/**
 * What the CronJobs' triggers (the schedule's, {@link ScheduleTriggerResource}, and the drills',
 * {@link DrillTriggerResource}) share, so that backup-trigger.sh calls both alike: the call, let
 * through by {@link TriggerAccess}, and the wait for the backup or drill it serves, which answers
 * 202 naming the backup in {@value ScheduleTriggerResource#BACKUP_HEADER} once
 * {@code pgha.backup.trigger.wait} has passed.
 */
abstract class TriggerResource {
    /** The trigger as its answers name it ("schedule trigger"). */
    final String what;

    @Inject
    KubernetesBackupService service;

    /** How long one call waits for the backup or drill it serves before answering 202 (the caller then calls again). */
    @ConfigProperty(name = "pgha.backup.trigger.wait", defaultValue = "9m")
    Duration wait;

    TriggerResource(String what) {
        this.what = what;
    }

    @POST
    @Blocking
    @Produces(MediaType.TEXT_PLAIN)
    public CompletionStage<Response> trigger(@PathParam("namespace") String namespace, @PathParam("cluster") String cluster,
                                             @QueryParam("backup") String waitFor,
                                             @HeaderParam(HttpHeaders.AUTHORIZATION) String authorization,
                                             @Context HttpServerRequest request) {
        Optional<KubernetesBackups> adapter = service.adapter();
        Optional<Response> refused = TriggerAccess.refusal(adapter, what, namespace, cluster, authorization, request);
        if (refused.isPresent()) {
            return done(refused.get());
        }
        return serve(adapter.get(), namespace, cluster, waitFor);
    }

    /**
     * The answer to a call let through for cluster {@code namespace/cluster}: it starts what is due,
     * or, with {@code waitFor} (the {@code ?backup=} of a call that waits on, else null), waits on
     * what serves that backup.
     */
    abstract CompletionStage<Response> serve(KubernetesBackups adapter, String namespace, String cluster, String waitFor);

    /** {@code answer} once {@code ended} has ended, or with a null result once {@link #wait} has passed. */
    <T> CompletionStage<Response> answerWhenEnded(CompletableFuture<T> ended, BiFunction<T, Throwable, Response> answer) {
        // a copy: the timeout must not end the wait of other calls for the same backup or drill
        return ended.copy()
                .completeOnTimeout(null, wait.toMillis(), TimeUnit.MILLISECONDS)
                .handle(answer);
    }

    /** What a wait failed with, not the CompletionException that carries it. */
    static Throwable cause(Throwable failure) {
        return failure instanceof CompletionException && failure.getCause() != null ? failure.getCause() : failure;
    }

    /** The 202 of a call whose wait for {@code subject} ran out, naming the backup for the next call's {@code ?backup=}. */
    static Response stillRuns(String subject, String backup) {
        return Response.fromResponse(text(Response.Status.ACCEPTED, subject + " still runs; call again to wait on"))
                .header(ScheduleTriggerResource.BACKUP_HEADER, backup).build();
    }

    static CompletionStage<Response> done(Response answer) {
        return CompletableFuture.completedFuture(answer);
    }
}
