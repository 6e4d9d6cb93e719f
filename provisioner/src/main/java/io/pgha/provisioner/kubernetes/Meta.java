package io.pgha.provisioner.kubernetes;

import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.pgha.api.Labels;
import io.pgha.api.v1.cluster.PostgresCluster;

import java.util.LinkedHashMap;
import java.util.Map;

/** Metadata every object pgha creates for a cluster shares: namespace, labels, owner reference. */
public final class Meta {
    private Meta() {
    }

    /** Labels on everything the cluster owns. */
    public static Map<String, String> clusterLabels(PostgresCluster cluster) {
        Map<String, String> labels = new LinkedHashMap<>();
        labels.put(Labels.CLUSTER, cluster.getMetadata().getName());
        labels.put(Labels.MANAGED_BY, Labels.MANAGED_BY_VALUE);
        return labels;
    }

    /** Labels of one component (instance, router) of the cluster. */
    public static Map<String, String> componentLabels(PostgresCluster cluster, String component) {
        Map<String, String> labels = clusterLabels(cluster);
        labels.put(Labels.COMPONENT, component);
        return labels;
    }

    /** The selector of one component: cluster and component only, so that it never changes. */
    public static Map<String, String> componentSelector(PostgresCluster cluster, String component) {
        Map<String, String> selector = new LinkedHashMap<>();
        selector.put(Labels.CLUSTER, cluster.getMetadata().getName());
        selector.put(Labels.COMPONENT, component);
        return selector;
    }

    /** The cluster as controlling owner: deleting the cluster deletes the object. */
    public static OwnerReference ownerReference(PostgresCluster cluster) {
        return new OwnerReferenceBuilder()
                .withApiVersion(cluster.getApiVersion())
                .withKind(cluster.getKind())
                .withName(cluster.getMetadata().getName())
                .withUid(cluster.getMetadata().getUid())
                .withController(true)
                .withBlockOwnerDeletion(true)
                .build();
    }

    /** Name, namespace, labels and the owner reference. */
    public static ObjectMeta owned(PostgresCluster cluster, String name, Map<String, String> labels) {
        return new ObjectMetaBuilder()
                .withName(name)
                .withNamespace(cluster.getMetadata().getNamespace())
                .withLabels(new LinkedHashMap<>(labels))
                .withOwnerReferences(ownerReference(cluster))
                .build();
    }
}
