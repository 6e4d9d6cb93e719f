package io.pgha.monitor.kubernetes;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.pgha.api.Labels;
import io.pgha.monitor.service.RoleMarker;
import org.jboss.logging.Logger;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;

/**
 * The {@link Labels#ROLE} label of each instance pod, by {@link Labels#role}, the rule the
 * provisioner follows too (so the two never undo each other's label). The read-write service
 * selects the pod labelled primary, the read-only one those labelled standby. Demotions go
 * first: the read-write service never selects two pods, not even for a moment.
 */
final class KubernetesRoles implements RoleMarker {
    private static final Logger LOG = Logger.getLogger(KubernetesRoles.class);

    private final KubernetesClient client;
    private final String namespace;
    private final String cluster;

    KubernetesRoles(KubernetesClient client, String namespace, String cluster) {
        this.client = client;
        this.namespace = namespace;
        this.cluster = cluster;
    }

    @Override
    public void mark(String primary, List<String> instances, Collection<String> fenced) {
        Map<String, Pod> pods = KubernetesPlatform.instancePods(client, namespace, cluster);
        List<String> order = new ArrayList<>(instances.stream().filter(n -> !n.equals(primary)).toList());
        if (instances.contains(primary)) {
            order.add(primary);
        }
        for (String instance : order) {
            Pod pod = pods.get(instance);
            String role = Labels.role(instance, primary, fenced);
            if (pod != null && !role.equals(pod.getMetadata().getLabels().get(Labels.ROLE))) {
                label(client, namespace, instance, role);
            }
        }
    }

    /** Sets the role label of one pod. */
    static void label(KubernetesClient client, String namespace, String pod, String role) {
        LOG.infof("labelling pod %s/%s %s", namespace, pod, role);
        client.pods().inNamespace(namespace).withName(pod).edit(p -> {
            p.getMetadata().getLabels().put(Labels.ROLE, role);
            return p;
        });
    }
}
