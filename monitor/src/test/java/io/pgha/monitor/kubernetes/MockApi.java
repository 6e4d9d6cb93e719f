package io.pgha.monitor.kubernetes;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.pgha.api.ClusterNames;
import io.pgha.api.Labels;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** What the tests put into the mock API server in place of the provisioner and the kubelet. */
final class MockApi {
    private MockApi() {
    }

    /** The PostgresCluster CRD as kustomize installs it, status subresource included. */
    static void installCrd(KubernetesClient client) throws IOException {
        Path dir = Path.of("").toAbsolutePath();
        while (!Files.exists(dir.resolve("kustomize"))) {
            dir = dir.getParent();
        }
        CustomResourceDefinition crd = client.getKubernetesSerialization().unmarshal(Files.readString(
                dir.resolve("kustomize/base/crds/postgresclusters.pgha.io-v1.yml")), CustomResourceDefinition.class);
        client.resource(crd).create();
    }

    /**
     * An instance pod of cluster pg with the labels the provisioner gives it, at {@code ip:port};
     * with {@code finalizers} (a test's kubelet), deleting it only marks it deleted.
     */
    static Pod pod(KubernetesClient client, String ns, String name, String role, String ip, int port, boolean ready,
                   String... finalizers) {
        Map<String, String> labels = new LinkedHashMap<>();
        labels.put(Labels.CLUSTER, "pg");
        labels.put(Labels.COMPONENT, Labels.COMPONENT_INSTANCE);
        labels.put(Labels.INSTANCE, name);
        labels.put(Labels.ROLE, role);
        return client.resource(new PodBuilder().withNewMetadata().withName(name).withNamespace(ns).withLabels(labels)
                .withFinalizers(finalizers).endMetadata()
                .withNewSpec().addNewContainer().withName(ClusterNames.INSTANCE_CONTAINER).withImage("postgres:15")
                .addNewPort().withName(ClusterNames.INSTANCE_PORT_NAME).withContainerPort(port).endPort().endContainer().endSpec()
                .withNewStatus().withPodIP(ip).addNewCondition().withType("Ready").withStatus(ready ? "True" : "False").endCondition()
                .endStatus().build()).create();
    }

    /** Sets a pod's Ready condition, as the kubelet does after its readiness probe. */
    static void ready(KubernetesClient client, String ns, String name, boolean ready) {
        client.pods().inNamespace(ns).withName(name).editStatus(p -> {
            p.getStatus().getConditions().forEach(c -> {
                if ("Ready".equals(c.getType())) {
                    c.setStatus(ready ? "True" : "False");
                }
            });
            return p;
        });
    }

    /**
     * The pods the -rw service selects: the provisioner's selector (ClusterServices.readWrite),
     * built from the same labels.
     */
    static List<String> readWriteEndpoints(KubernetesClient client, String ns) {
        Map<String, String> selector = Map.of(Labels.CLUSTER, "pg", Labels.COMPONENT, Labels.COMPONENT_INSTANCE,
                Labels.ROLE, Labels.ROLE_PRIMARY);
        return client.pods().inNamespace(ns).withLabels(selector).list().getItems().stream()
                .map(p -> p.getMetadata().getName()).sorted().toList();
    }
}
