package io.pgha.provisioner.kubernetes;

import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaimBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.pgha.api.Labels;
import io.pgha.api.v1.cluster.PostgresCluster;

/**
 * The volume of one instance, named like the instance. It carries an owner reference to the
 * cluster only when {@code spec.storage.deleteWithCluster} is set: by default deleting the
 * cluster keeps the data. Scaling down deletes the volume of the removed instance explicitly.
 */
public final class InstancePvc {
    private InstancePvc() {
    }

    public static String name(PostgresCluster cluster, String instance) {
        return instance;
    }

    public static PersistentVolumeClaim desired(PostgresCluster cluster, String instance) {
        var labels = Meta.componentLabels(cluster, Labels.COMPONENT_INSTANCE);
        labels.put(Labels.INSTANCE, instance);
        ObjectMeta meta = Meta.owned(cluster, name(cluster, instance), labels);
        if (!cluster.getSpec().storage.deleteWithCluster) {
            meta.setOwnerReferences(null);
        }
        return new PersistentVolumeClaimBuilder()
                .withMetadata(meta)
                .withNewSpec()
                    .withAccessModes("ReadWriteOnce")
                    .withStorageClassName(cluster.getSpec().storage.storageClass)
                    .withNewResources().addToRequests("storage", new Quantity(cluster.getSpec().storage.size)).endResources()
                .endSpec()
                .build();
    }
}
