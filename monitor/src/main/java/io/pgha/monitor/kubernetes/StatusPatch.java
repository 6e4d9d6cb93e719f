package io.pgha.monitor.kubernetes;

import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.pgha.api.JsonPatch;
import io.pgha.api.v1.cluster.PostgresClusterStatus;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The monitor's write of a PostgresCluster status: a JSON patch (RFC 6902) of the status
 * subresource that sets the resourceVersion the change was computed from (the API server takes a
 * resourceVersion in the patched object as a precondition: a concurrent writer, the provisioner,
 * makes it fail with 409 and the change is computed again rather than overwriting that write),
 * then replaces {@code topology} and {@code conditions} when they changed. The
 * conditions were computed from the current ones by setting only the monitor's own types, so the
 * provisioner's Ready and SpecValid pass through untouched; phase, observedGeneration and
 * provisioning are never in the patch. The provisioner patches the same way. Pure.
 */
final class StatusPatch {
    static final KubernetesSerialization JSON = new KubernetesSerialization();

    private StatusPatch() {
    }

    /** A copy to change, so that {@code before} stays as read. */
    static PostgresClusterStatus copy(PostgresClusterStatus status) {
        return status == null ? new PostgresClusterStatus() : JSON.unmarshal(JSON.asJson(status), PostgresClusterStatus.class);
    }

    /** The patch from {@code before} to {@code after}, or empty when the monitor's parts did not change. */
    static Optional<String> of(String resourceVersion, PostgresClusterStatus before, PostgresClusterStatus after) {
        List<Map<String, Object>> ops = new ArrayList<>();
        if (!same(before == null ? null : before.topology, after.topology)) {
            ops.add(JsonPatch.op("add", "/status/topology", after.topology));
        }
        if (!same(before == null ? null : before.conditions, after.conditions)) {
            ops.add(JsonPatch.op("add", "/status/conditions", after.conditions));
        }
        if (ops.isEmpty()) {
            return Optional.empty();
        }
        if (before == null) {
            ops.add(0, JsonPatch.op("add", "/status", Map.of()));
        }
        ops.add(0, JsonPatch.op("add", "/metadata/resourceVersion", resourceVersion));
        return Optional.of(JSON.asJson(ops));
    }

    private static boolean same(Object a, Object b) {
        return JSON.asJson(a).equals(JSON.asJson(b));
    }
}
