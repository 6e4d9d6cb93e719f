package io.pgha.backup.kubernetes;

import io.pgha.api.BearerToken;
import io.pgha.api.ClusterNames;
import io.pgha.backup.service.WalAnswers;
import io.pgha.backup.service.WalArchives;
import io.vertx.core.http.HttpServerRequest;
import jakarta.ws.rs.core.Response;

import java.util.Optional;
import java.util.regex.Pattern;

import static io.pgha.backup.service.WalAnswers.text;

/**
 * What the CronJobs' triggers (the schedule's, {@link ScheduleTriggerResource}, and the drills',
 * {@link DrillTriggerResource}) check before they act: that this service runs on Kubernetes, that
 * the names are names, and that the caller holds the cluster's WAL token (the Secret
 * {@link ClusterNames#walPushSecret}, read at every call), refused as the WAL endpoints refuse.
 */
final class TriggerAccess {
    private static final Pattern NAMESPACE = Pattern.compile("^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$");

    private TriggerAccess() {
    }

    /**
     * The answer that refuses a call of trigger {@code what} ("schedule trigger") for cluster
     * {@code namespace/cluster}, or empty when the call may go on.
     */
    static Optional<Response> refusal(Optional<KubernetesBackups> adapter, String what, String namespace, String cluster,
                                      String authorization, HttpServerRequest request) {
        if (adapter.isEmpty()) {
            return Optional.of(text(Response.Status.NOT_FOUND, what + "s are served on Kubernetes only (pgha.platform=kubernetes)"));
        }
        if (!NAMESPACE.matcher(namespace).matches()) {
            return Optional.of(text(Response.Status.BAD_REQUEST, "not a namespace name: " + namespace));
        }
        String key = namespace + "/" + cluster;
        try {
            WalArchives.requireClusterName(cluster);
            BearerToken.Verdict verdict = BearerToken.check(authorization, adapter.get().targets().walToken(namespace, cluster));
            if (verdict != BearerToken.Verdict.ACCEPTED) {
                return Optional.of(WalAnswers.refused(verdict, "refused the " + what + " of cluster " + key, request));
            }
        } catch (IllegalArgumentException e) {
            // no such cluster name, no token Secret: nothing to check the caller against
            return Optional.of(text(Response.Status.NOT_FOUND, what + " of cluster " + key + ": " + e.getMessage()));
        }
        return Optional.empty();
    }
}
