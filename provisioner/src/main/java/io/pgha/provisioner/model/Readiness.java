package io.pgha.provisioner.model;

import io.pgha.api.ClusterNames;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Whether a cluster is Ready: every instance runs, the primary is out of recovery, and every
 * standby streams from it through its own slot. When not, the message says what is missing.
 */
public record Readiness(boolean ready, String message) {

    public static Readiness evaluate(int desired, String primary, Map<String, InstanceFacts> facts) {
        List<String> missing = new ArrayList<>();
        if (facts.size() != desired) {
            missing.add(facts.size() + " of " + desired + " instances exist");
        }
        InstanceFacts p = primary == null ? null : facts.get(primary);
        if (p == null || !p.reachable()) {
            missing.add("primary " + primary + " is not reachable");
        } else if (Boolean.TRUE.equals(p.inRecovery())) {
            missing.add("primary " + primary + " is still in recovery");
        }
        for (InstanceFacts f : facts.values()) {
            if (f.name().equals(primary)) {
                continue;
            }
            if (!f.reachable()) {
                missing.add(f.name() + " is not reachable");
            } else if (p != null && p.reachable() && (!p.streaming().contains(f.name())
                    || !p.activeSlots().contains(ClusterNames.replicationSlot(f.name())))) {
                missing.add(f.name() + " is not streaming through its slot yet");
            }
        }
        return missing.isEmpty()
                ? new Readiness(true, desired + " instances ready: " + primary + " is primary"
                        + (desired > 1 ? ", " + (desired - 1) + " standbys streaming" : ""))
                : new Readiness(false, String.join("; ", missing));
    }
}
