package io.pgha.provisioner.kubernetes;

import io.pgha.api.v1.cluster.PostgresCluster;
import io.pgha.api.validation.Violation;

import java.util.List;

/**
 * What a valid manifest asks for that pgha does not build on Kubernetes yet. Such a manifest is
 * refused like an invalid one, with nothing created: acting on the rest of it would give the user
 * something other than what they asked for.
 */
final class KubernetesScope {
    private KubernetesScope() {
    }

    static List<Violation> violations(PostgresCluster cluster) {
        // a restore runs in local mode only; the pods would initdb an empty cluster in its place,
        // which looks like a restore that lost every row. A cluster that exists already (made so by
        // an older provisioner) is left to run as it is.
        if (cluster.getSpec().bootstrap.recovery != null && !created(cluster)) {
            return List.of(new Violation("spec.bootstrap.recovery", "restoring into a new cluster runs in local mode only"
                    + " (pgha up -f); on Kubernetes it is not built yet, so nothing was created"));
        }
        return List.of();
    }

    private static boolean created(PostgresCluster cluster) {
        return cluster.getStatus() != null && cluster.getStatus().provisioning != null
                && !cluster.getStatus().provisioning.instances.isEmpty();
    }
}
