package io.pgha.monitor.core;

import io.pgha.api.postgres.Lsn;

import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * Chooses the standby to promote. The ranking is by timeline, then by how far its WAL goes (the
 * greater of received and replayed), then synchronous standbys before asynchronous ones, then by
 * name so that the choice is stable. A synchronous standby never beats one with more WAL: that
 * could throw away commits.
 *
 * <p>Two vetoes stop an automatic failover. In asynchronous mode, the best standby may be no more
 * than {@code maxDataLossBytes} behind the last position the primary was seen at. In quorum mode
 * ({@code ANY n} of k standbys) an acknowledged commit is guaranteed only on n of them, so at
 * least k-n+1 standbys must be reachable for the best of them to hold every acknowledged commit.
 */
public final class CandidateSelector {
    private CandidateSelector() {
    }

    public sealed interface Choice permits Chosen, NoCandidate, Vetoed {
    }

    /** The candidate, and every eligible standby best first (the candidate is the first). */
    public record Chosen(InstanceObservation candidate, List<InstanceObservation> ranking) implements Choice {
        public String name() {
            return candidate.name();
        }
    }

    public record NoCandidate(String reason) implements Choice {
    }

    public record Vetoed(String candidate, String reason) implements Choice {
    }

    /** Highest timeline first, then most WAL, then synchronous, then name. */
    public static Comparator<InstanceObservation> ranking(Set<String> synchronous) {
        Comparator<InstanceObservation> byTimeline = Comparator.comparing(o -> Objects.requireNonNullElse(o.timeline(), 0));
        Comparator<InstanceObservation> byPosition = Comparator.comparing(o -> Objects.requireNonNullElse(o.position(), Lsn.ZERO));
        Comparator<InstanceObservation> bySync = Comparator.comparing(o -> synchronous.contains(o.name()));
        return byTimeline.reversed().thenComparing(byPosition.reversed()).thenComparing(bySync.reversed())
                .thenComparing(InstanceObservation::name);
    }

    /**
     * @param standbys          the frozen standbys' latest observations (unreachable ones included)
     * @param synchronous       standbys the primary last reported as sync or quorum
     * @param excluded          instances that may not be promoted (fenced, the failed primary)
     * @param quorumMembers     quorum mode: how many standbys take part in the quorum
     * @param lastPrimaryLsn    the primary's last known position, null when never seen
     * @param automatic         false for a planned switchover, which no loss bound applies to
     */
    public static Choice choose(Collection<InstanceObservation> standbys, Set<String> synchronous, Set<String> excluded,
                                MonitorSettings settings, int quorumMembers, Lsn lastPrimaryLsn, boolean automatic) {
        List<InstanceObservation> eligible = standbys.stream()
                .filter(InstanceObservation::isStandby)
                .filter(o -> !excluded.contains(o.name()))
                .filter(o -> o.position() != null)
                .sorted(ranking(synchronous))
                .toList();
        if (eligible.isEmpty()) {
            return new NoCandidate("no reachable standby to promote");
        }
        InstanceObservation best = eligible.get(0);
        if (automatic && settings.quorum()) {
            int needed = quorumMembers - settings.quorumNumber() + 1;
            if (eligible.size() < needed) {
                return new Vetoed(best.name(), "quorum mode needs " + needed + " of " + quorumMembers
                        + " standbys reachable to be sure to hold every acknowledged commit, reached " + eligible.size());
            }
        }
        if (automatic && !settings.quorum() && settings.maxDataLossBytes() != null && lastPrimaryLsn != null) {
            long behind = lastPrimaryLsn.minus(best.position());
            if (behind > settings.maxDataLossBytes()) {
                return new Vetoed(best.name(), "best standby " + best.name() + " is " + behind
                        + " bytes behind the primary's last known position " + lastPrimaryLsn
                        + ", more than maxDataLossBytes " + settings.maxDataLossBytes());
            }
        }
        return new Chosen(best, eligible);
    }
}
