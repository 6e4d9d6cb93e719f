package io.pgha.provisioner.kubernetes;

import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudgetBuilder;
import io.pgha.api.ClusterNames;
import io.pgha.api.Labels;
import io.pgha.api.v1.cluster.PostgresCluster;

/** A node drain evicts at most one instance of the cluster at a time. */
public final class InstanceDisruptionBudget {
    private InstanceDisruptionBudget() {
    }

    public static PodDisruptionBudget desired(PostgresCluster cluster) {
        String name = cluster.getMetadata().getName();
        return new PodDisruptionBudgetBuilder()
                .withMetadata(Meta.owned(cluster, ClusterNames.podDisruptionBudget(name),
                        Meta.componentLabels(cluster, Labels.COMPONENT_INSTANCE)))
                .withNewSpec()
                    .withMaxUnavailable(new IntOrString(1))
                    .withNewSelector().withMatchLabels(Meta.componentSelector(cluster, Labels.COMPONENT_INSTANCE)).endSelector()
                .endSpec()
                .build();
    }
}
