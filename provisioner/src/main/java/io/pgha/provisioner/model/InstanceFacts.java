package io.pgha.provisioner.model;

import java.util.Map;
import java.util.Set;

/**
 * What one look at an instance showed, on any platform. {@code streaming} and {@code activeSlots}
 * are filled for the instance that is not in recovery: the application names in
 * pg_stat_replication with state streaming, and the slots in use.
 */
public record InstanceFacts(String name, Long pid, boolean reachable, Boolean inRecovery,
                            Set<String> streaming, Set<String> activeSlots, Map<String, Long> lagBytes) {
    public static InstanceFacts down(String name) {
        return new InstanceFacts(name, null, false, null, Set.of(), Set.of(), Map.of());
    }
}
