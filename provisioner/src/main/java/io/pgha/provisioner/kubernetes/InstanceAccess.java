package io.pgha.provisioner.kubernetes;

import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.ServiceAccountBuilder;
import io.fabric8.kubernetes.api.model.rbac.PolicyRuleBuilder;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import io.fabric8.kubernetes.api.model.rbac.RoleBindingBuilder;
import io.fabric8.kubernetes.api.model.rbac.RoleBuilder;
import io.pgha.api.ClusterNames;
import io.pgha.api.Labels;
import io.pgha.api.v1.cluster.PostgresCluster;

import java.util.List;

/**
 * What the instance pods may do with the API server: read the cluster's instance pods by name and
 * nothing else. A primary proves with that read that it is not cut off from the control plane
 * (bootstrap.sh {@code live}), and a restarted former primary reads its role label from it rather
 * than from its possibly stale downward-API file (bootstrap.sh {@code run}). The provisioner may
 * grant this because it holds {@code get} on pods itself (RBAC's escalation rule).
 */
public final class InstanceAccess {
    private InstanceAccess() {
    }

    static String name(PostgresCluster cluster) {
        return ClusterNames.instanceServiceAccount(cluster.getMetadata().getName());
    }

    public static ServiceAccount serviceAccount(PostgresCluster cluster) {
        return new ServiceAccountBuilder()
                .withMetadata(Meta.owned(cluster, name(cluster), Meta.componentLabels(cluster, Labels.COMPONENT_INSTANCE)))
                .withAutomountServiceAccountToken(true)
                .build();
    }

    /** {@code get} on the planned instance pods, by name: no list, no watch, no other object. */
    public static Role role(PostgresCluster cluster, List<String> instanceNames) {
        return new RoleBuilder()
                .withMetadata(Meta.owned(cluster, name(cluster), Meta.componentLabels(cluster, Labels.COMPONENT_INSTANCE)))
                .withRules(new PolicyRuleBuilder().withApiGroups("").withResources("pods")
                        .withResourceNames(List.copyOf(instanceNames)).withVerbs("get").build())
                .build();
    }

    public static RoleBinding roleBinding(PostgresCluster cluster) {
        return new RoleBindingBuilder()
                .withMetadata(Meta.owned(cluster, name(cluster), Meta.componentLabels(cluster, Labels.COMPONENT_INSTANCE)))
                .withNewRoleRef().withApiGroup("rbac.authorization.k8s.io").withKind("Role").withName(name(cluster)).endRoleRef()
                .addNewSubject().withKind("ServiceAccount").withName(name(cluster))
                    .withNamespace(cluster.getMetadata().getNamespace()).endSubject()
                .build();
    }
}
