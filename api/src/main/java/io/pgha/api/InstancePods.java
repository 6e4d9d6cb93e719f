package io.pgha.api;

import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.Pod;

import java.util.Optional;
import java.util.stream.Stream;

/**
 * What an instance pod tells about its PostgreSQL server, one reading for the provisioner, the
 * monitor and the router: where it listens and whether it is Ready.
 */
public final class InstancePods {
    private InstancePods() {
    }

    /** Where an instance's server listens. */
    public record Address(String host, int port) {
    }

    /**
     * The pod IP and its container port named {@link ClusterNames#INSTANCE_PORT_NAME}: pods have no
     * DNS name of their own (the services select by role), and whoever must reach one instance in
     * particular goes to its IP. Empty while the pod has no IP yet.
     */
    public static Optional<Address> address(Pod pod) {
        String ip = pod.getStatus() == null ? null : pod.getStatus().getPodIP();
        if (ip == null || ip.isEmpty() || pod.getSpec() == null) {
            return Optional.empty();
        }
        return pod.getSpec().getContainers().stream()
                .flatMap(c -> c.getPorts() == null ? Stream.<ContainerPort>empty() : c.getPorts().stream())
                .filter(p -> ClusterNames.INSTANCE_PORT_NAME.equals(p.getName()))
                .findFirst().map(p -> new Address(ip, p.getContainerPort()));
    }

    /** Ready condition true and not being deleted: what the services route to. */
    public static boolean ready(Pod pod) {
        if (pod.getMetadata().getDeletionTimestamp() != null || pod.getStatus() == null || pod.getStatus().getConditions() == null) {
            return false;
        }
        return pod.getStatus().getConditions().stream().anyMatch(c -> "Ready".equals(c.getType()) && "True".equals(c.getStatus()));
    }
}
