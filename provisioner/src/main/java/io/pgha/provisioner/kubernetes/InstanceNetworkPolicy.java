package io.pgha.provisioner.kubernetes;

import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyBuilder;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPeer;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPeerBuilder;
import io.pgha.api.ClusterNames;
import io.pgha.api.Labels;
import io.pgha.api.v1.cluster.PostgresCluster;

import java.util.List;
import java.util.Map;

/**
 * Who may reach a cluster's PostgreSQL port: its other instances (replication, clones, rewinds),
 * its router, and pgha's monitor and backup service; nobody else. Applications go through the
 * router. Only ingress is restricted (an instance reaches the API server, the -rw Service and the
 * backup service), and only on the PostgreSQL port. NetworkPolicies add up: a namespace that must
 * let a tool reach -rw or -ro directly adds its own policy.
 */
public final class InstanceNetworkPolicy {
    private InstanceNetworkPolicy() {
    }

    public static NetworkPolicy desired(PostgresCluster cluster, PghaServices services) {
        String name = ClusterNames.networkPolicy(cluster.getMetadata().getName());
        return new NetworkPolicyBuilder()
                .withMetadata(Meta.owned(cluster, name, Meta.clusterLabels(cluster)))
                .withNewSpec()
                    .withNewPodSelector().withMatchLabels(Meta.componentSelector(cluster, Labels.COMPONENT_INSTANCE)).endPodSelector()
                    .withPolicyTypes("Ingress")
                    .addNewIngress()
                        .addNewPort().withProtocol("TCP").withPort(new IntOrString(InstancePod.PORT)).endPort()
                        .withFrom(List.of(
                                samePod(Meta.componentSelector(cluster, Labels.COMPONENT_INSTANCE)),
                                samePod(Meta.componentSelector(cluster, Labels.COMPONENT_ROUTER)),
                                service(services, PghaServices.MONITOR),
                                service(services, PghaServices.BACKUP)))
                    .endIngress()
                .endSpec()
                .build();
    }

    private static NetworkPolicyPeer samePod(Map<String, String> selector) {
        return new NetworkPolicyPeerBuilder().withNewPodSelector().withMatchLabels(selector).endPodSelector().build();
    }

    private static NetworkPolicyPeer service(PghaServices services, String service) {
        return new NetworkPolicyPeerBuilder()
                .withNewNamespaceSelector().withMatchLabels(Map.of(PghaServices.NAMESPACE_NAME_LABEL, services.namespace()))
                    .endNamespaceSelector()
                .withNewPodSelector().withMatchLabels(PghaServices.podSelector(service)).endPodSelector()
                .build();
    }
}
