package io.pgha.provisioner.model;

import java.util.Map;
import java.util.Set;

/**
 * What one look at an instance showed, on any platform. {@code streaming} and {@code activeSlots}
 * are filled for the instance that is not in recovery: the application names in
 * pg_stat_replication with state streaming, and the slots in use. {@code wal} is null when the
 * instance did not answer or the platform does not look that far.
 */
public record InstanceFacts(String name, Long pid, boolean reachable, Boolean inRecovery,
                            Set<String> streaming, Set<String> activeSlots, Map<String, Long> lagBytes, Wal wal) {
    public static InstanceFacts down(String name) {
        return new InstanceFacts(name, null, false, null, Set.of(), Set.of(), Map.of(), null);
    }

    /**
     * Where an instance's WAL stands. A primary: the timeline it writes and its insert position. A
     * standby: the highest timeline it holds WAL of, the end of the WAL it holds (received or
     * replayed, whichever is further, as a byte position), and whether its WAL receiver streams.
     */
    public record Wal(int timeline, long end, boolean receiving) {
    }
}
