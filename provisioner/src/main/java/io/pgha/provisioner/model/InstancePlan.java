package io.pgha.provisioner.model;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * Which instances to add and which to remove so that {@code desired} instances exist. New
 * instances take the lowest free serials; removal takes the highest-numbered standbys and never
 * the current primary, so scaling down never needs a failover.
 */
public record InstancePlan(List<Integer> create, List<Integer> remove) {

    public static InstancePlan of(int desired, Set<Integer> existing, Integer primarySerial) {
        List<Integer> create = new ArrayList<>();
        List<Integer> remove = new ArrayList<>();
        if (existing.size() < desired) {
            for (int serial = 1; existing.size() + create.size() < desired; serial++) {
                if (!existing.contains(serial)) {
                    create.add(serial);
                }
            }
        } else if (existing.size() > desired) {
            for (int serial : new TreeSet<>(existing).descendingSet()) {
                if (existing.size() - remove.size() == desired) {
                    break;
                }
                if (primarySerial == null || serial != primarySerial) {
                    remove.add(serial);
                }
            }
        }
        return new InstancePlan(List.copyOf(create), List.copyOf(remove));
    }

    public boolean isEmpty() {
        return create.isEmpty() && remove.isEmpty();
    }
}
