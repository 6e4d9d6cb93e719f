package io.pgha.backup.kubernetes;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.pgha.api.JsonPatch;
import io.pgha.api.v1.Condition;
import io.pgha.api.v1.Conditions;
import io.pgha.api.v1.backup.PostgresBackup;
import io.pgha.api.v1.backup.PostgresBackupStatus;
import io.pgha.api.v1.cluster.BackupStatus;
import io.pgha.api.v1.cluster.PostgresCluster;
import io.pgha.api.v1.cluster.PostgresClusterStatus;
import io.pgha.backup.core.BackupPhase;
import io.pgha.backup.service.BackupJob;

import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.function.UnaryOperator;

/**
 * The backup service's status writes on Kubernetes, each a JSON patch of the status subresource
 * that carries the resourceVersion it was computed from (a concurrent writer makes it fail with
 * 409, and it is computed again from a fresh read), and is sent only when something changed:
 * a PostgresBackup's whole status (this service owns it), and {@code status.backup} and the
 * ContinuousArchiving condition of a PostgresCluster (the provisioner's and the monitor's parts
 * are never changed by the patch).
 */
final class StatusWrites {
    static final KubernetesSerialization JSON = new KubernetesSerialization();
    /** A conflict means someone else wrote just now; a few more tries settle it. */
    private static final int ATTEMPTS = 5;

    private final KubernetesClient client;

    StatusWrites(KubernetesClient client) {
        this.client = client;
    }

    /** The status record of PostgresBackup {@code namespace/name}, moved only forward through the phases. */
    BackupJob.Record record(String namespace, String name) {
        return (next, change) -> backup(namespace, name, before -> {
            BackupPhase now = before.phase == null ? null : BackupPhase.of(before.phase);
            if (now != null && now != next && !now.canMoveTo(next)) {
                throw new IllegalStateException("backup " + name + " cannot go from " + now.text() + " to " + next.text());
            }
            before.phase = next.text();
            change.accept(before);
            return before;
        });
    }

    /** Changes the status of PostgresBackup {@code namespace/name}; false when the object is gone. */
    boolean backup(String namespace, String name, UnaryOperator<PostgresBackupStatus> change) {
        var resource = client.resources(PostgresBackup.class).inNamespace(namespace).withName(name);
        for (int attempt = 1; ; attempt++) {
            PostgresBackup fresh = resource.get();
            if (fresh == null) {
                return false;
            }
            PostgresBackupStatus after = change.apply(copy(fresh.getStatus(), PostgresBackupStatus.class, PostgresBackupStatus::new));
            Optional<String> patch = patch(fresh.getMetadata().getResourceVersion(), fresh.getStatus() != null,
                    "/status", fresh.getStatus(), after);
            if (patch.isEmpty() || send(() -> resource.subresource("status").patch(PatchContext.of(PatchType.JSON), patch.get()),
                    attempt)) {
                return true;
            }
        }
    }

    /** Sets {@code status.backup} of PostgresCluster {@code namespace/name} to {@code change} of what it is now. */
    void clusterBackup(String namespace, String name, UnaryOperator<BackupStatus> change) {
        clusterPart(namespace, name, "/status/backup", s -> s.backup,
                before -> change.apply(copy(before, BackupStatus.class, BackupStatus::new)));
    }

    /**
     * Puts {@code condition} (a type this service owns) among the conditions of PostgresCluster
     * {@code namespace/name}; the other owners' conditions stay as they are, and its transition
     * time moves only when its status does.
     */
    void clusterCondition(String namespace, String name, Condition condition) {
        clusterPart(namespace, name, "/status/conditions", s -> s.conditions,
                before -> Conditions.with(before, condition, Clock.systemUTC()));
    }

    /** Sets the part of a PostgresCluster's status at {@code path} to {@code change} of what it is now ({@code change} must not modify its argument). */
    private <T> void clusterPart(String namespace, String name, String path, Function<PostgresClusterStatus, T> part, UnaryOperator<T> change) {
        var resource = client.resources(PostgresCluster.class).inNamespace(namespace).withName(name);
        for (int attempt = 1; ; attempt++) {
            PostgresCluster fresh = resource.get();
            if (fresh == null) {
                return;
            }
            T before = fresh.getStatus() == null ? null : part.apply(fresh.getStatus());
            T after = change.apply(before);
            Optional<String> patch = patch(fresh.getMetadata().getResourceVersion(), fresh.getStatus() != null, path, before, after);
            if (patch.isEmpty() || send(() -> resource.subresource("status").patch(PatchContext.of(PatchType.JSON), patch.get()),
                    attempt)) {
                return;
            }
        }
    }

    /** True once sent; false on a conflict worth another try; the error itself after the last try. */
    private static boolean send(Runnable patch, int attempt) {
        try {
            patch.run();
            return true;
        } catch (KubernetesClientException e) {
            if (e.getCode() != 409 || attempt >= ATTEMPTS) {
                throw e;
            }
            return false;
        }
    }

    /** The patch that puts {@code after} at {@code path}, empty when it equals {@code before}. */
    static Optional<String> patch(String resourceVersion, boolean hasStatus, String path, Object before, Object after) {
        if (JSON.asJson(before).equals(JSON.asJson(after))) {
            return Optional.empty();
        }
        List<Map<String, Object>> ops = new ArrayList<>();
        ops.add(JsonPatch.op("add", "/metadata/resourceVersion", resourceVersion));
        if (!hasStatus && !path.equals("/status")) {
            ops.add(JsonPatch.op("add", "/status", Map.of()));
        }
        ops.add(JsonPatch.op("add", path, after));
        return Optional.of(JSON.asJson(ops));
    }

    private static <T> T copy(T value, Class<T> type, java.util.function.Supplier<T> empty) {
        return value == null ? empty.get() : JSON.unmarshal(JSON.asJson(value), type);
    }
}
