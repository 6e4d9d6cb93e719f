package io.pgha.monitor.core;

import io.pgha.api.postgres.Lsn;

import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;

/**
 * Chooses the standby to promote. The ranking is by timeline, then by how far its WAL goes (the
 * greater of received and replayed), then undelayed standbys before delayed ones, then synchronous
 * standbys before asynchronous ones, then by name so that the choice is stable. A synchronous standby never beats one with more WAL: that
 * could throw away commits.
 *
 * <p>Two vetoes stop an automatic failover. In asynchronous mode, the best standby may be no more
 * than {@code maxDataLossBytes} behind the last position the primary was seen at. In quorum mode
 * ({@code ANY n} of k standbys) an acknowledged commit is guaranteed only on n of them, so at
 * least k-n+1 of them must be reachable for the best of them to hold every acknowledged commit;
 * the k are the standbys that can acknowledge ({@link Acknowledgers}), and when the one with the
 * most WAL among them may not be promoted (fenced), a candidate with less is refused too.
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

    /**
     * Highest timeline first, then most WAL, then a standby that replays as it receives before a
     * delayed one (it is the quicker to promote, and a delayed standby is usually kept to undo
     * mistakes, not to serve), then synchronous, then name.
     */
    public static Comparator<InstanceObservation> ranking(Set<String> synchronous) {
        Comparator<InstanceObservation> byTimeline = Comparator.comparing(o -> Objects.requireNonNullElse(o.timeline(), 0));
        Comparator<InstanceObservation> byPosition = Comparator.comparing(o -> Objects.requireNonNullElse(o.position(), Lsn.ZERO));
        Comparator<InstanceObservation> byPromptness = Comparator.comparing(InstanceObservation::applyDelayed);
        Comparator<InstanceObservation> bySync = Comparator.comparing(o -> synchronous.contains(o.name()));
        return byTimeline.reversed().thenComparing(byPosition.reversed()).thenComparing(byPromptness)
                .thenComparing(bySync.reversed()).thenComparing(InstanceObservation::name);
    }

    /**
     * @param standbys          the frozen standbys' latest observations (unreachable ones included);
     *                          excluded ones among them are compared, never chosen
     * @param synchronous       standbys the primary last reported as sync or quorum
     * @param excluded          instances that may not be promoted (fenced, the failed primary)
     * @param members           quorum mode: the standbys that can acknowledge a commit ({@link Acknowledgers})
     * @param lastPrimaryLsn    the primary's last known position, null when never seen
     * @param automatic         false for a planned switchover, which no loss bound applies to
     */
    public static Choice choose(Collection<InstanceObservation> standbys, Set<String> synchronous, Set<String> excluded,
                                MonitorSettings settings, Set<String> members, Lsn lastPrimaryLsn, boolean automatic) {
        List<InstanceObservation> reachable = standbys.stream()
                .filter(InstanceObservation::isStandby)
                .filter(o -> o.position() != null)
                .sorted(ranking(synchronous))
                .toList();
        List<InstanceObservation> eligible = reachable.stream().filter(o -> !excluded.contains(o.name())).toList();
        if (eligible.isEmpty()) {
            return new NoCandidate("no reachable standby to promote");
        }
        InstanceObservation best = eligible.get(0);
        if (automatic && settings.quorum()) {
            int needed = members.size() - settings.quorumNumber() + 1;
            List<String> reached = reachable.stream().map(InstanceObservation::name).filter(members::contains).toList();
            if (reached.size() < needed) {
                return new Vetoed(best.name(), "quorum mode needs " + needed + " of the " + members.size()
                        + " standbys that can acknowledge a commit " + new TreeSet<>(members) + " reachable to be sure to hold every "
                        + "acknowledged commit, reached " + reached.size() + " " + reached);
            }
            InstanceObservation furthest = reachable.get(0);
            if (furthest != best && members.contains(furthest.name()) && ahead(furthest, best)) {
                return new Vetoed(best.name(), furthest.name() + " may not be promoted but holds WAL up to "
                        + furthest.position() + " on timeline " + furthest.timeline() + ", further than " + best.name()
                        + " (" + best.position() + "): it may hold acknowledged commits no candidate has");
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

    /** Whether {@code a}'s WAL goes further than {@code b}'s: a later timeline, or more WAL on the same one. */
    private static boolean ahead(InstanceObservation a, InstanceObservation b) {
        return ahead(a, b.timeline(), b.position());
    }

    /** Whether {@code a}'s WAL goes further than {@code position} on {@code timeline}. */
    static boolean ahead(InstanceObservation a, Integer timeline, Lsn position) {
        int ta = Objects.requireNonNullElse(a.timeline(), 0);
        int tb = Objects.requireNonNullElse(timeline, 0);
        return ta != tb ? ta > tb : a.position().compareTo(position) > 0;
    }
}
