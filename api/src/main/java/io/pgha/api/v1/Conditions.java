package io.pgha.api.v1;

import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** Conditions keyed by type: setting one keeps its lastTransitionTime unless its status changes. */
public final class Conditions {
    private Conditions() {
    }

    public static Optional<Condition> find(List<Condition> conditions, String type) {
        if (conditions == null) {
            return Optional.empty();
        }
        return conditions.stream().filter(c -> type.equals(c.type)).findFirst();
    }

    public static boolean isTrue(List<Condition> conditions, String type) {
        return find(conditions, type).map(Condition::isTrue).orElse(false);
    }

    /**
     * Returns a new list with {@code condition} in place of any condition of the same type. The
     * transition time is carried over when only the reason or message changed, as Kubernetes does.
     */
    public static List<Condition> with(List<Condition> conditions, Condition condition, Clock clock) {
        List<Condition> result = new ArrayList<>(conditions == null ? List.of() : conditions);
        Condition previous = find(result, condition.type).orElse(null);
        Condition next = new Condition(condition.type, condition.status, condition.reason, condition.message);
        next.lastTransitionTime = previous != null && previous.status.equals(condition.status)
                ? previous.lastTransitionTime
                : Instant.now(clock).truncatedTo(ChronoUnit.SECONDS).toString();
        result.removeIf(c -> c.type.equals(condition.type));
        result.add(next);
        result.sort((a, b) -> a.type.compareTo(b.type));
        return result;
    }
}
