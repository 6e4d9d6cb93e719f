package io.pgha.provisioner.kubernetes;

import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.pgha.api.ClusterNames;
import io.pgha.api.Labels;
import io.pgha.api.v1.cluster.PostgresCluster;

import java.util.List;
import java.util.Map;

/**
 * The cluster's three services: {@code -rw} selects the pod labelled primary, {@code -ro} the pods
 * labelled standby (only ready pods become endpoints, so: the healthy standbys), {@code -router}
 * the router deployment, the one endpoint applications use.
 */
public final class ClusterServices {
    private ClusterServices() {
    }

    public static List<Service> desired(PostgresCluster cluster) {
        return List.of(readWrite(cluster), readOnly(cluster), router(cluster));
    }

    public static Service readWrite(PostgresCluster cluster) {
        return instances(cluster, ClusterNames.readWriteService(cluster.getMetadata().getName()), Labels.ROLE_PRIMARY);
    }

    public static Service readOnly(PostgresCluster cluster) {
        return instances(cluster, ClusterNames.readOnlyService(cluster.getMetadata().getName()), Labels.ROLE_STANDBY);
    }

    public static Service router(PostgresCluster cluster) {
        return service(cluster, ClusterNames.routerService(cluster.getMetadata().getName()), Labels.COMPONENT_ROUTER,
                Meta.componentSelector(cluster, Labels.COMPONENT_ROUTER), RouterDeployment.POSTGRES_PORT_NAME);
    }

    private static Service instances(PostgresCluster cluster, String name, String role) {
        Map<String, String> selector = Meta.componentSelector(cluster, Labels.COMPONENT_INSTANCE);
        selector.put(Labels.ROLE, role);
        return service(cluster, name, Labels.COMPONENT_INSTANCE, selector, InstancePod.PORT_NAME);
    }

    private static Service service(PostgresCluster cluster, String name, String component, Map<String, String> selector,
                                   String targetPort) {
        return new ServiceBuilder()
                .withMetadata(Meta.owned(cluster, name, Meta.componentLabels(cluster, component)))
                .withNewSpec()
                    .withType("ClusterIP")
                    .withSelector(selector)
                    .addNewPort().withName("postgres").withPort(InstancePod.PORT).withProtocol("TCP")
                        .withTargetPort(new IntOrString(targetPort)).endPort()
                .endSpec()
                .build();
    }
}
