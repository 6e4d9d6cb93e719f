package io.pgha.k8se2e;

import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentStatus;
import io.fabric8.kubernetes.api.model.apps.DeploymentStatusBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.utils.Serialization;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Predicate;

/**
 * The part of kube-controller-manager the tests need: each Deployment gets spec.replicas pods of
 * its current template (labelled with the template's hash and owned by the Deployment itself; no
 * ReplicaSet in between), pods of an older template are replaced (Recreate), and the Deployment's
 * status counts its ready pods. Which Deployments run is the test's choice.
 */
final class DeploymentController {
    static final String TEMPLATE_HASH = "pod-template-hash";
    private static final String ALPHABET = "bcdfghjklmnpqrstvwxz2456789";

    private final KubernetesClient client;
    private final Predicate<Deployment> runs;

    DeploymentController(KubernetesClient client, Predicate<Deployment> runs) {
        this.client = client;
        this.runs = runs;
    }

    void sync(List<Pod> pods) {
        for (Deployment d : client.apps().deployments().inAnyNamespace().list().getItems()) {
            if (d.getMetadata().getDeletionTimestamp() == null && runs.test(d)) {
                reconcile(d, pods);
            }
        }
    }

    private void reconcile(Deployment d, List<Pod> pods) {
        String ns = d.getMetadata().getNamespace();
        String hash = templateHash(d);
        List<Pod> owned = pods.stream().filter(p -> ns.equals(p.getMetadata().getNamespace())
                        && p.getMetadata().getDeletionTimestamp() == null
                        && p.getMetadata().getOwnerReferences() != null
                        && p.getMetadata().getOwnerReferences().stream().anyMatch(o -> d.getMetadata().getUid().equals(o.getUid())))
                .toList();
        List<Pod> current = owned.stream().filter(p -> hash.equals(label(p, TEMPLATE_HASH))).toList();
        owned.stream().filter(p -> !current.contains(p)).forEach(this::delete);
        int replicas = d.getSpec().getReplicas() == null ? 1 : d.getSpec().getReplicas();
        for (int i = current.size(); i < replicas; i++) {
            client.pods().inNamespace(ns).resource(pod(d, hash)).create();
        }
        current.stream().skip(replicas).forEach(this::delete);
        long ready = current.stream().limit(replicas).filter(DeploymentController::ready).count();
        DeploymentStatus status = new DeploymentStatusBuilder()
                .withObservedGeneration(d.getMetadata().getGeneration())
                .withReplicas(Math.min(current.size(), replicas))
                .withUpdatedReplicas(Math.min(current.size(), replicas))
                .withReadyReplicas((int) ready)
                .withAvailableReplicas((int) ready)
                .withUnavailableReplicas(replicas - (int) ready)
                .addNewCondition().withType("Available").withStatus(ready >= replicas ? "True" : "False").endCondition()
                .build();
        if (!status.equals(d.getStatus())) {
            try {
                client.apps().deployments().inNamespace(ns).withName(d.getMetadata().getName()).editStatus(x -> {
                    x.setStatus(status);
                    return x;
                });
            } catch (KubernetesClientException e) {
                // written again next sync
            }
        }
    }

    private Pod pod(Deployment d, String hash) {
        Map<String, String> labels = new LinkedHashMap<>(d.getSpec().getTemplate().getMetadata().getLabels());
        labels.put(TEMPLATE_HASH, hash);
        StringBuilder suffix = new StringBuilder();
        for (int i = 0; i < 5; i++) {
            suffix.append(ALPHABET.charAt(ThreadLocalRandom.current().nextInt(ALPHABET.length())));
        }
        return new PodBuilder()
                .withNewMetadata()
                    .withName(d.getMetadata().getName() + "-" + hash + "-" + suffix)
                    .withNamespace(d.getMetadata().getNamespace())
                    .withLabels(labels)
                    .withAnnotations(d.getSpec().getTemplate().getMetadata().getAnnotations())
                    .withOwnerReferences(new OwnerReferenceBuilder().withApiVersion("apps/v1").withKind("Deployment")
                            .withName(d.getMetadata().getName()).withUid(d.getMetadata().getUid()).withController(true).build())
                .endMetadata()
                .withSpec(d.getSpec().getTemplate().getSpec())
                .build();
    }

    private void delete(Pod p) {
        client.pods().inNamespace(p.getMetadata().getNamespace()).withName(p.getMetadata().getName()).delete();
    }

    static boolean ready(Pod p) {
        return p.getStatus() != null && p.getStatus().getConditions() != null && p.getStatus().getConditions().stream()
                .anyMatch(c -> "Ready".equals(c.getType()) && "True".equals(c.getStatus()));
    }

    private static String label(Pod p, String key) {
        return p.getMetadata().getLabels() == null ? null : p.getMetadata().getLabels().get(key);
    }

    private static String templateHash(Deployment d) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256")
                    .digest(Serialization.asJson(d.getSpec().getTemplate()).getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(digest).substring(0, 10);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
