package io.pgha.provisioner.kubernetes;

import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.pgha.api.ClusterNames;
import io.pgha.api.JsonPatch;
import io.pgha.api.v1.ClusterPhase;
import io.pgha.api.v1.Condition;
import io.pgha.api.v1.ConditionTypes;
import io.pgha.api.v1.Conditions;
import io.pgha.api.v1.cluster.PostgresCluster;
import io.pgha.api.v1.cluster.PostgresClusterStatus;
import io.pgha.api.v1.cluster.ProvisioningStatus;
import io.pgha.api.v1.cluster.TopologyStatus;
import io.pgha.api.validation.InvalidManifestException;
import io.pgha.api.validation.Violation;

import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * The provisioner's part of the status after a pass: phase, observedGeneration, its conditions
 * (Ready, SpecValid; other owners' conditions are carried over untouched), provisioning, and
 * {@code topology} only at bootstrap, when no primary was recorded yet and the first primary has
 * become ready. Pure: the reconciler patches the result only when {@link #differs} says so.
 */
public final class ClusterStatusView {
    private static final KubernetesSerialization JSON = new KubernetesSerialization();
    /** The condition types the provisioner owns. */
    static final java.util.Set<String> OWNED_CONDITIONS = java.util.Set.of(ConditionTypes.READY, ConditionTypes.SPEC_VALID);

    private ClusterStatusView() {
    }

    /** The status parts after a pass that acted on a valid spec. */
    public static PostgresClusterStatus valid(PostgresCluster cluster, InstanceLayout layout, Map<String, Boolean> podReady,
                                              String rolloutMessage, Clock clock) {
        PostgresClusterStatus current = Optional.ofNullable(cluster.getStatus()).orElseGet(PostgresClusterStatus::new);
        PostgresClusterStatus next = new PostgresClusterStatus();
        next.observedGeneration = cluster.getMetadata().getGeneration();
        next.provisioning = provisioning(current.provisioning, layout);

        List<String> planned = layout.plannedNames();
        List<String> notReady = planned.stream().filter(n -> !podReady.getOrDefault(n, false)).toList();
        boolean primaryReady = podReady.getOrDefault(layout.primary(), false);
        boolean ready = notReady.isEmpty() && podReady.keySet().containsAll(planned) && podReady.size() == planned.size()
                && rolloutMessage == null;
        String message;
        if (ready) {
            int standbys = planned.size() - 1;
            message = planned.size() + " instances ready: " + layout.primary() + " is primary"
                    + (standbys > 0 ? ", " + standbys + " standbys" : "");
            next.phase = ClusterPhase.READY;
        } else if (!primaryReady && layout.firstPrimary() != null) {
            message = "setting up primary " + layout.primary();
            next.phase = ClusterPhase.SETTING_UP_PRIMARY;
        } else if (!primaryReady) {
            message = "primary " + layout.primary() + " is not ready: waiting for it or for the monitor";
            next.phase = ClusterPhase.WAITING_FOR_INSTANCES;
        } else if (!layout.plan().remove().isEmpty() || podReady.size() > planned.size()) {
            message = "removing " + names(layout, layout.plan().remove());
            next.phase = ClusterPhase.REMOVING_STANDBY;
        } else if (!notReady.isEmpty()) {
            message = "waiting for " + String.join(", ", notReady);
            next.phase = ClusterPhase.CREATING_STANDBY;
        } else {
            message = rolloutMessage;
            next.phase = ClusterPhase.WAITING_FOR_INSTANCES;
        }
        next.provisioning.message = message;
        // the Ready printer column of kubectl get postgresclusters
        next.provisioning.ready = (planned.size() - notReady.size()) + "/" + planned.size();
        List<Condition> conditions = Conditions.with(current.conditions, specValid(List.of()), clock);
        next.conditions = Conditions.with(conditions, new Condition(ConditionTypes.READY, ready ? Condition.TRUE : Condition.FALSE,
                ready ? "ClusterReady" : next.phase, message), clock);
        if (layout.firstPrimary() != null && primaryReady) {
            // the one topology write the provisioner makes: the first primary, at bootstrap
            next.topology = new TopologyStatus();
            next.topology.currentPrimary = layout.firstPrimary();
            next.topology.timeline = 1;
        }
        return next;
    }

    /** The status parts after a pass that found the spec invalid: only SpecValid changes. */
    public static PostgresClusterStatus invalid(PostgresCluster cluster, List<Violation> violations, Clock clock) {
        PostgresClusterStatus current = Optional.ofNullable(cluster.getStatus()).orElseGet(PostgresClusterStatus::new);
        PostgresClusterStatus next = new PostgresClusterStatus();
        next.phase = current.phase;
        next.observedGeneration = current.observedGeneration;
        next.provisioning = current.provisioning;
        next.conditions = Conditions.with(current.conditions, specValid(violations), clock);
        return next;
    }

    static Condition specValid(List<Violation> violations) {
        if (violations.isEmpty()) {
            return new Condition(ConditionTypes.SPEC_VALID, Condition.TRUE, "Valid", "the spec is valid");
        }
        // the reason says that nothing changes; the message is exactly what `pgha apply` prints locally
        return new Condition(ConditionTypes.SPEC_VALID, Condition.FALSE, "InvalidSpec", InvalidManifestException.describe(violations));
    }

    /**
     * {@code next} rebased onto the status as it is now: the conditions the provisioner owns
     * (Ready, SpecValid) from {@code next}, every other condition from {@code current}; and no
     * bootstrap topology write once a primary is recorded by now.
     */
    public static PostgresClusterStatus onto(PostgresClusterStatus current, PostgresClusterStatus next) {
        PostgresClusterStatus rebased = new PostgresClusterStatus();
        rebased.phase = next.phase;
        rebased.observedGeneration = next.observedGeneration;
        rebased.provisioning = next.provisioning;
        List<Condition> conditions = new ArrayList<>(current == null ? List.of() : current.conditions);
        conditions.removeIf(c -> OWNED_CONDITIONS.contains(c.type));
        List<Condition> stored = current == null ? List.of() : current.conditions;
        next.conditions.stream().filter(c -> OWNED_CONDITIONS.contains(c.type)).map(c -> sinceStored(stored, c)).forEach(conditions::add);
        conditions.sort((a, b) -> a.type.compareTo(b.type));
        rebased.conditions = conditions;
        rebased.topology = InstanceLayout.bootstrapped(current) ? null : next.topology;
        return rebased;
    }

    /**
     * {@code condition} with the stored condition's transition time when the stored one has the
     * same status: a pass computes its conditions on the informer's copy, which may predate the
     * last write, and would otherwise stamp a transition that already happened (a second write
     * that only moved lastTransitionTime).
     */
    private static Condition sinceStored(List<Condition> stored, Condition condition) {
        return Conditions.find(stored, condition.type)
                .filter(s -> s.status.equals(condition.status))
                .map(s -> {
                    Condition kept = new Condition(condition.type, condition.status, condition.reason, condition.message);
                    kept.lastTransitionTime = s.lastTransitionTime;
                    return kept;
                })
                .orElse(condition);
    }

    /** True when {@code next} would change anything the provisioner owns in {@code current}. */
    public static boolean differs(PostgresClusterStatus current, PostgresClusterStatus next) {
        if (current == null) {
            return true;
        }
        return !Objects.equals(current.phase, next.phase)
                || !Objects.equals(current.observedGeneration, next.observedGeneration)
                || !JSON.asJson(current.conditions).equals(JSON.asJson(next.conditions))
                || !JSON.asJson(current.provisioning).equals(JSON.asJson(next.provisioning))
                || (next.topology != null && !InstanceLayout.bootstrapped(current));
    }

    /**
     * The JSON patch (RFC 6902) of the status subresource: a test of the resourceVersion the pass
     * read, so that a concurrent writer (the monitor) makes it fail and retry rather than be
     * overwritten, then one replacement per field the provisioner owns. {@code topology} appears
     * only in the bootstrap write, and when the monitor already wrote a topology (what it sees of
     * the instances, before any primary was recorded) only its primary and timeline are added.
     * (A JSON patch rather than a merge patch: lists are replaced exactly, on the API server and
     * on the mock server alike.)
     */
    public static String jsonPatch(String resourceVersion, PostgresClusterStatus current, PostgresClusterStatus next) {
        List<Map<String, Object>> ops = new ArrayList<>();
        ops.add(JsonPatch.op("test", "/metadata/resourceVersion", resourceVersion));
        if (current == null) {
            ops.add(JsonPatch.op("add", "/status", Map.of()));
        }
        ops.add(JsonPatch.op("add", "/status/phase", next.phase));
        ops.add(JsonPatch.op("add", "/status/observedGeneration", next.observedGeneration));
        ops.add(JsonPatch.op("add", "/status/conditions", next.conditions));
        ops.add(JsonPatch.op("add", "/status/provisioning", next.provisioning));
        if (next.topology != null && (current == null || current.topology == null)) {
            ops.add(JsonPatch.op("add", "/status/topology", next.topology));
        } else if (next.topology != null) {
            ops.add(JsonPatch.op("add", "/status/topology/currentPrimary", next.topology.currentPrimary));
            ops.add(JsonPatch.op("add", "/status/topology/timeline", next.topology.timeline));
        }
        return JSON.asJson(ops);
    }

    private static ProvisioningStatus provisioning(ProvisioningStatus current, InstanceLayout layout) {
        ProvisioningStatus next = new ProvisioningStatus();
        next.instances = new ArrayList<>();
        for (int serial : layout.plannedSerials()) {
            String name = ClusterNames.instance(layout.cluster(), serial);
            ProvisioningStatus.Instance recorded = current == null ? null : current.instance(name).orElse(null);
            if (recorded != null) {
                next.instances.add(recorded);
            } else {
                next.instances.add(new ProvisioningStatus.Instance(name, serial, name.equals(layout.firstPrimary())
                        ? ProvisioningStatus.Instance.CREATED_BY_INITDB : ProvisioningStatus.Instance.CREATED_BY_CLONE));
            }
        }
        return next;
    }

    private static String names(InstanceLayout layout, List<Integer> serials) {
        return serials.stream().map(s -> ClusterNames.instance(layout.cluster(), s)).collect(Collectors.joining(", "));
    }
}
