package io.pgha.provisioner.kubernetes;

import io.pgha.api.ClusterNames;
import io.pgha.api.Labels;
import io.pgha.api.v1.cluster.PostgresCluster;
import io.pgha.api.v1.cluster.PostgresClusterStatus;
import io.pgha.provisioner.model.InstancePlan;

import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * Which instances the cluster has and will have, and which one is primary: the current primary
 * the monitor recorded, or, before the first primary was recorded, instance 1, the one instance
 * that may initdb. Pure.
 *
 * @param existing     serials that exist now (pods or recorded instances)
 * @param plan         what to create and remove; never the primary
 * @param primary      the instance labelled primary
 * @param firstPrimary the instance that may initdb, or null once a primary has been recorded
 * @param fenced       instances the monitor fenced: never labelled primary until they rejoined
 */
public record InstanceLayout(String cluster, Set<Integer> existing, InstancePlan plan, String primary, String firstPrimary,
                             Set<String> fenced) {

    public static InstanceLayout of(PostgresCluster cluster, Set<Integer> existingSerials) {
        String name = cluster.getMetadata().getName();
        String recorded = Optional.ofNullable(cluster.getStatus()).map(s -> s.topology).map(t -> t.currentPrimary).orElse(null);
        String primary = recorded != null ? recorded : ClusterNames.instance(name, 1);
        Integer primarySerial = ClusterNames.serialOf(name, primary).stream().boxed().findFirst().orElse(null);
        Set<Integer> existing = new TreeSet<>(existingSerials);
        InstancePlan plan = InstancePlan.of(cluster.getSpec().instances, existing, primarySerial);
        Set<String> fenced = Optional.ofNullable(cluster.getStatus()).map(s -> s.topology).map(t -> Set.copyOf(t.fenced))
                .orElse(Set.of());
        return new InstanceLayout(name, existing, plan, primary, recorded == null ? primary : null, fenced);
    }

    /** The serials once the plan is carried out, in order. */
    public List<Integer> plannedSerials() {
        TreeSet<Integer> serials = new TreeSet<>(existing);
        serials.addAll(plan.create());
        plan.remove().forEach(serials::remove);
        return List.copyOf(serials);
    }

    public List<String> plannedNames() {
        return plannedSerials().stream().map(s -> ClusterNames.instance(cluster, s)).toList();
    }

    /** The role label, by the rule the monitor follows too ({@link Labels#role}). */
    public String role(String instance) {
        return Labels.role(instance, primary, fenced);
    }

    static boolean bootstrapped(PostgresClusterStatus status) {
        return status != null && status.topology != null && status.topology.currentPrimary != null;
    }
}
