package io.pgha.monitor.core;

import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Planned maintenance: the provisioner records, for an instance it restarts in place on purpose
 * (a rolling restart whose change must reach the primary first), until when that restart may take.
 * While such a hold is unexpired, the primary's failed checks are its own restart, not a failure:
 * failing over then would leave the restarted former primary unable to follow (it already runs the
 * lowered setting the new primary does not). The hold is bounded, so a restart that hangs is
 * failed over once it expires. Pure.
 */
public final class MaintenanceHold {
    private MaintenanceHold() {
    }

    /**
     * The instances whose hold is still running at {@code now}.
     *
     * @param until each instance's recorded hold end, an ISO-8601 instant; null or blank for none
     */
    public static Set<String> unexpired(Map<String, String> until, Instant now) {
        Set<String> held = new TreeSet<>();
        until.forEach((instance, end) -> {
            if (end != null && !end.isBlank() && now.isBefore(parse(end))) {
                held.add(instance);
            }
        });
        return held;
    }

    /** An unreadable hold holds nothing: a garbled status must not keep the monitor from failing over. */
    private static Instant parse(String end) {
        try {
            return Instant.parse(end);
        } catch (DateTimeParseException e) {
            return Instant.MIN;
        }
    }
}
