package io.pgha.provisioner.model;

import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * The next step of a rolling restart, on any platform: which instance restarts now, or why
 * nothing may happen yet. Standbys go first, one at a time and only while the whole cluster is
 * ready; the primary goes last, by a switchover to a standby (its role moves instead of its
 * clients waiting), after which it is a standby like any other. When the change lowers a setting
 * no standby may have lower than its primary ({@link RestartSettings#primaryFirst}), the primary
 * restarts first, in place. A one-instance cluster has no one to switch over to: in place. Pure.
 */
public final class RollingRestart {
    /** What to do now. */
    public sealed interface Step permits Nothing, Wait, RestartInPlace, Switchover {
    }

    /** No instance is due a restart. */
    public record Nothing() implements Step {
    }

    /** Something is due but may not happen yet. */
    public record Wait(String reason) implements Step {
    }

    /** Restart {@code instance} where it runs (a standby, or the primary when it must go first or is alone). */
    public record RestartInPlace(String instance, String reason) implements Step {
    }

    /** Move the primary role from {@code from} to {@code to}; the former primary restarts as a standby. */
    public record Switchover(String from, String to, String reason) implements Step {
    }

    private RollingRestart() {
    }

    /**
     * @param primary      the current primary
     * @param instances    every instance, with whether it is due a restart
     * @param clusterReady every instance runs and every standby streams
     * @param primaryFirst the change lowers a setting standbys may not have lower than the primary
     */
    public static Step next(String primary, Map<String, Boolean> instances, boolean clusterReady, boolean primaryFirst) {
        Set<String> due = new TreeSet<>();
        instances.forEach((name, d) -> {
            if (d) {
                due.add(name);
            }
        });
        if (due.isEmpty()) {
            return new Nothing();
        }
        boolean primaryDue = due.contains(primary);
        Optional<String> standby = due.stream().filter(n -> !n.equals(primary)).findFirst();
        String whom = primaryDue && (primaryFirst || standby.isEmpty()) ? primary : standby.orElse(primary);
        if (!clusterReady) {
            return new Wait(whom + " is due a restart: waiting for every instance to be ready");
        }
        if (primaryDue && primaryFirst) {
            return new RestartInPlace(primary, "restarting primary " + primary
                    + " first: the change lowers a setting no standby may have lower than its primary");
        }
        if (standby.isPresent()) {
            return new RestartInPlace(standby.get(), "restarting standby " + standby.get());
        }
        Optional<String> target = instances.keySet().stream().filter(n -> !n.equals(primary)).sorted().findFirst();
        if (target.isEmpty()) {
            return new RestartInPlace(primary, "restarting primary " + primary + " in place: it has no standby to switch over to");
        }
        return new Switchover(primary, target.get(), "primary " + primary + " is due a restart: switching over to "
                + target.get() + " first");
    }
}
