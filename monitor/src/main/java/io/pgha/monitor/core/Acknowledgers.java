package io.pgha.monitor.core;

import io.pgha.api.SynchronousStandbyNames;

import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * The standbys that may hold a commit the primary acknowledged in quorum mode: the set a failover
 * must count, freeze and compare. It comes from the primary's live
 * {@code synchronous_standby_names}, which is what PostgreSQL waits for, not from the instances
 * the monitor has recorded: a standby cloned and streaming before the provisioner recorded it,
 * or a fenced former primary that rejoined and streams again, acknowledges commits like any other.
 *
 * <p>A listed name counts when it is a recorded standby that is not fenced, or when the monitor
 * saw it streaming from this primary ({@code pg_stat_replication}, state {@code streaming}: only
 * such a sender takes part in synchronous replication). A listed name it never saw connected and
 * never recorded (a planned instance that is not there, a fenced one that stayed down) cannot
 * have acknowledged anything up to the last check. Pure.
 */
public final class Acknowledgers {
    private Acknowledgers() {
    }

    /**
     * @param primary       the primary whose commits are in question
     * @param live          its synchronous_standby_names as last read; empty when asynchronous or not read yet
     * @param recorded      every instance the monitor knows
     * @param fenced        fenced instances
     * @param seenStreaming instances seen streaming from this primary since it became the primary
     */
    public static Set<String> of(String primary, Optional<SynchronousStandbyNames.Setting> live, List<String> recorded,
                                 Set<String> fenced, Collection<String> seenStreaming) {
        Set<String> candidates = new TreeSet<>();
        recorded.stream().filter(n -> !fenced.contains(n)).forEach(candidates::add);
        if (live.isEmpty()) {
            candidates.remove(primary);
            return candidates;
        }
        candidates.addAll(seenStreaming);
        candidates.remove(primary);
        if (live.get().anyStandby()) {
            return candidates;
        }
        List<String> listed = live.get().names();
        candidates.removeIf(n -> !listed.contains(n.toLowerCase(Locale.ROOT)));
        return candidates;
    }
}
