package io.pgha.monitor.core;

import io.pgha.api.postgres.Lsn;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * The state machine of one failover or switchover. Pure: it hands out one {@link Step} at a time
 * and the caller reports each step's outcome back. The order is fixed:
 *
 * <pre>
 * failover:   freeze all standbys -> choose -> fence old primary [-> recheck] -> await replay -> promote -> re-point
 * switchover: freeze the others -> stop old primary cleanly -> await target at its last WAL -> promote -> re-point
 * </pre>
 *
 * Only the standbys that answered the freeze are re-pointed; the others are left to the
 * monitor's repair once they answer. (Pointing them at the candidate before its promotion, as
 * cascading standbys, was tried: they then follow the promotion through the startup process's
 * timeline rescan, which took about 2 s longer here than a re-point that restarts the WAL
 * receiver straight at the new primary.)
 *
 * <p>A standby that answers but whose WAL receiver does not stop (a hung or frozen receiver
 * process) does not stop the failover: its position is compared, so that it counts towards the
 * quorum, but it is never the candidate nor re-pointed, and because it may still write WAL it is
 * sent until the old primary is fenced, its position is read again after the fence (nothing can
 * be acknowledged after that) and the failover aborts if it then holds WAL the candidate lacks.
 *
 * Before the old primary is fenced, any failure unfreezes the standbys (back to the old primary)
 * and aborts. Once it is fenced, nothing goes back to it: a failure aborts and leaves the cluster
 * to the next failover decision. Promotion never comes before fencing.
 */
public final class Procedure {
    public enum Kind {
        FAILOVER, SWITCHOVER;

        public String label() {
            return name().toLowerCase();
        }
    }

    public enum Phase { FREEZING, FENCING, RECHECKING, CATCHING_UP, PROMOTING, REPOINTING, UNFREEZING, DONE, ABORTED }

    public sealed interface Step permits Freeze, Fence, Recheck, AwaitCatchUp, Promote, Repoint, Unfreeze, Done, Abort {
    }

    /** Read again where these standbys, whose WAL receivers did not stop, stand now that the old primary is fenced. */
    public record Recheck(List<String> standbys) implements Step {
    }

    /** Detach these standbys' WAL receivers and report where each one stands. */
    public record Freeze(List<String> standbys) implements Step {
    }

    /**
     * Make sure {@code instance} can never take writes again. {@code clean}: a planned stop that
     * lets the standbys receive all of its WAL first.
     */
    public record Fence(String instance, boolean clean) implements Step {
    }

    /**
     * Wait until {@code candidate} has replayed all it received, and at least up to {@code atLeast}
     * when that is not null.
     */
    public record AwaitCatchUp(String candidate, Lsn atLeast) implements Step {
    }

    public record Promote(String candidate) implements Step {
    }

    /** Point these standbys at the new primary (slots there first). */
    public record Repoint(String newPrimary, List<String> standbys) implements Step {
    }

    /** Give the standbys their previous primary back: the procedure is being abandoned. */
    public record Unfreeze(List<String> standbys, String primary) implements Step {
    }

    public record Done(String newPrimary, int timeline) implements Step {
    }

    public record Abort(String reason) implements Step {
    }

    private final Kind kind;
    private final String from;
    private final List<String> standbys;
    private final Set<String> synchronous;
    private final Set<String> excluded;
    private final MonitorSettings settings;
    private final Set<String> members;
    private final Lsn lastPrimaryLsn;

    private Phase phase = Phase.FREEZING;
    private String candidate;
    private String abortReason;
    /** Why the candidate choice refused to fail over (a loss bound, quorum safety); null otherwise. */
    private String veto;
    private Step step;
    private int timeline;
    private List<String> frozen = List.of();
    /** The frozen standbys that answered the freeze with their WAL receiver stopped. */
    private List<String> answered = List.of();
    /** Standbys that answered the freeze but whose WAL receiver did not stop. */
    private Set<String> stillReceiving = Set.of();
    /** What the candidate must have replayed before its promotion; null: all it received. */
    private Lsn catchUpTarget;
    /** Failover: where the chosen candidate's WAL ended once frozen, and on which timeline. */
    private Lsn candidateEnd;
    private Integer candidateTimeline;

    private Procedure(Kind kind, String from, String target, List<String> standbys, Set<String> synchronous,
                      Set<String> excluded, MonitorSettings settings, Set<String> members, Lsn lastPrimaryLsn) {
        this.kind = kind;
        this.from = Objects.requireNonNull(from);
        this.candidate = target;
        this.standbys = List.copyOf(standbys);
        this.synchronous = Set.copyOf(synchronous);
        this.excluded = Set.copyOf(excluded);
        this.settings = settings;
        this.members = Set.copyOf(members);
        this.lastPrimaryLsn = lastPrimaryLsn;
        List<String> toFreeze = kind == Kind.FAILOVER ? this.standbys
                : this.standbys.stream().filter(s -> !s.equals(target)).toList();
        this.step = new Freeze(toFreeze);
    }

    /**
     * A failover away from {@code failedPrimary}.
     *
     * @param standbys      every instance
     * @param synchronous   standbys the primary last reported as synchronous
     * @param members       quorum mode: the standbys that can acknowledge a commit ({@link Acknowledgers});
     *                      fenced ones among them are frozen and compared too, but never promoted
     */
    public static Procedure failover(String failedPrimary, List<String> standbys, Set<String> synchronous,
                                     Set<String> fenced, MonitorSettings settings, Set<String> members,
                                     Lsn lastPrimaryLsn) {
        List<String> compared = standbys.stream().filter(s -> !s.equals(failedPrimary)
                && (!fenced.contains(s) || members.contains(s))).toList();
        Set<String> excluded = new java.util.HashSet<>(fenced);
        excluded.add(failedPrimary);
        return new Procedure(Kind.FAILOVER, failedPrimary, null, compared, synchronous, excluded, settings, members,
                lastPrimaryLsn);
    }

    /** A planned switchover from {@code primary} to {@code target}, a healthy standby. */
    public static Procedure switchover(String primary, String target, List<String> standbys, Set<String> fenced) {
        if (target == null || target.equals(primary)) {
            throw new IllegalArgumentException("a switchover needs a target other than the primary");
        }
        List<String> others = standbys.stream().filter(s -> !s.equals(primary) && !fenced.contains(s)).toList();
        if (!others.contains(target)) {
            throw new IllegalArgumentException(target + " is not a standby that can be promoted");
        }
        return new Procedure(Kind.SWITCHOVER, primary, target, others, Set.of(), fenced, MonitorSettings.defaults(), Set.of(),
                null);
    }

    public Kind kind() {
        return kind;
    }

    /**
     * WAL lost by this procedure, for the history: none in a switchover (it promotes only once the
     * target has everything); in a failover, how far the old primary was last seen beyond the
     * candidate's frozen position (at least that much is lost), null when either is unknown.
     */
    public Long lostBytes() {
        if (kind == Kind.SWITCHOVER) {
            return 0L;
        }
        return lastPrimaryLsn == null || candidateEnd == null ? null : Math.max(0, lastPrimaryLsn.minus(candidateEnd));
    }

    public String from() {
        return from;
    }

    /** The instance being promoted, once chosen. */
    public String candidate() {
        return candidate;
    }

    public Phase phase() {
        return phase;
    }

    public Step step() {
        return step;
    }

    public boolean finished() {
        return phase == Phase.DONE || phase == Phase.ABORTED;
    }

    /** True once the old primary was fenced: from here on nothing may point at it again. */
    public boolean pastFencing() {
        return fencedDone;
    }

    private boolean fencedDone;

    /**
     * The freeze step is done: {@code positions} holds the latest observation of every standby,
     * taken after its WAL receiver stopped (unreachable ones as unreachable).
     */
    public Step frozen(Map<String, InstanceObservation> positions) {
        return frozen(positions, Set.of());
    }

    /**
     * As {@link #frozen(Map)}; {@code stillReceiving}: standbys among them that answered but
     * whose WAL receiver did not stop.
     */
    public Step frozen(Map<String, InstanceObservation> positions, Set<String> stillReceiving) {
        expect(Phase.FREEZING);
        frozen = ((Freeze) step).standbys();
        this.stillReceiving = Set.copyOf(stillReceiving);
        answered = frozen.stream().filter(s -> positions.containsKey(s) && positions.get(s).isStandby()
                && !stillReceiving.contains(s)).toList();
        List<String> outOfRecovery = frozen.stream().filter(s -> positions.containsKey(s) && positions.get(s).isPrimary()).toList();
        if (!outOfRecovery.isEmpty()) {
            // only a monitor promotes, and this one has not: a former leader did, before its session was ended;
            // promoting another now would leave two primaries, so stop and let the next round adopt it
            return unfreeze(String.join(", ", outOfRecovery) + " left recovery during the failover, promoted by another monitor");
        }
        if (kind == Kind.SWITCHOVER) {
            phase = Phase.FENCING;
            return step = new Fence(from, true);
        }
        List<InstanceObservation> observed = new ArrayList<>();
        for (String s : standbys) {
            observed.add(positions.getOrDefault(s, InstanceObservation.unreachable(s, java.time.Instant.EPOCH, "not frozen")));
        }
        Set<String> notCandidates = new java.util.HashSet<>(excluded);
        notCandidates.addAll(stillReceiving);
        CandidateSelector.Choice choice = CandidateSelector.choose(observed, synchronous, notCandidates, settings,
                members, lastPrimaryLsn, true);
        if (choice instanceof CandidateSelector.Chosen chosen) {
            candidate = chosen.name();
            candidateEnd = positions.containsKey(candidate) ? positions.get(candidate).position() : null;
            candidateTimeline = positions.containsKey(candidate) ? positions.get(candidate).timeline() : null;
            phase = Phase.FENCING;
            return step = new Fence(from, false);
        }
        if (choice instanceof CandidateSelector.Vetoed v) {
            veto = v.reason();
            return unfreeze("vetoed: " + v.reason());
        }
        return unfreeze(((CandidateSelector.NoCandidate) choice).reason());
    }

    /**
     * The fence step is done. {@code finalLsn}: for a clean stop, where the old primary's WAL ended
     * (null when unknown).
     */
    public Step fenced(boolean ok, Lsn finalLsn, String detail) {
        expect(Phase.FENCING);
        if (!ok) {
            return unfreeze("could not fence " + from + ": " + detail);
        }
        fencedDone = true;
        if (kind == Kind.SWITCHOVER && finalLsn == null) {
            return abort("the end of " + from + "'s WAL is unknown, so the switchover cannot prove it loses nothing");
        }
        catchUpTarget = finalLsn;
        if (!stillReceiving.isEmpty()) {
            phase = Phase.RECHECKING;
            return step = new Recheck(stillReceiving.stream().sorted().toList());
        }
        return awaitCatchUp();
    }

    private Step awaitCatchUp() {
        phase = Phase.CATCHING_UP;
        return step = new AwaitCatchUp(candidate, catchUpTarget);
    }

    /**
     * The standbys whose WAL receivers did not stop, read after the fence: {@code positions} holds
     * each one's observation now (unreachable ones as unreachable). One that can acknowledge a
     * commit and holds WAL beyond the candidate's, or cannot be read, may hold acknowledged
     * commits the candidate lacks: the failover aborts (the old primary stays fenced).
     */
    public Step rechecked(Map<String, InstanceObservation> positions) {
        expect(Phase.RECHECKING);
        for (String s : ((Recheck) step).standbys()) {
            if (settings.quorum() && !members.contains(s)) {
                continue;
            }
            InstanceObservation o = positions.get(s);
            if (o == null || !o.isStandby() || o.position() == null) {
                return abort(s + "'s WAL receiver did not stop and it cannot be read after the fence: it may hold "
                        + "commits " + candidate + " lacks");
            }
            if (candidateEnd != null && CandidateSelector.ahead(o, candidateTimeline, candidateEnd)) {
                return abort(s + "'s WAL receiver did not stop and after the fence it holds WAL up to " + o.position()
                        + " on timeline " + o.timeline() + ", further than " + candidate + " (" + candidateEnd + ")");
            }
        }
        return awaitCatchUp();
    }

    /** The other standbys were pointed at the new primary (those that failed are repaired later). */
    public Step repointed() {
        expect(Phase.REPOINTING);
        phase = Phase.DONE;
        return step = new Done(candidate, timeline);
    }

    /** The catch-up wait is over: {@code reached} tells whether the candidate got there in time. */
    public Step caughtUp(boolean reached, String detail) {
        expect(Phase.CATCHING_UP);
        if (!reached && kind == Kind.SWITCHOVER) {
            return abort(candidate + " did not receive all of " + from + "'s WAL: " + detail);
        }
        // in a failover, replay lag only delays: promotion replays what was received anyway
        phase = Phase.PROMOTING;
        return step = new Promote(candidate);
    }

    public Step promoted(boolean ok, int newTimeline, String detail) {
        expect(Phase.PROMOTING);
        if (!ok) {
            return abort("promotion of " + candidate + " failed: " + detail);
        }
        timeline = newTimeline;
        phase = Phase.REPOINTING;
        return step = new Repoint(candidate, answered.stream().filter(s -> !s.equals(candidate)).toList());
    }

    /** The unfreeze step is done; the procedure ends aborted. */
    public Step unfrozen() {
        expect(Phase.UNFREEZING);
        phase = Phase.ABORTED;
        return step = new Abort(abortReason);
    }

    /** Gives up where it stands (for example when the lease is lost). */
    public Step abort(String reason) {
        abortReason = reason;
        phase = Phase.ABORTED;
        return step = new Abort(reason);
    }

    public String abortReason() {
        return abortReason;
    }

    /** Why the candidate choice vetoed this failover, if it did. */
    public java.util.Optional<String> veto() {
        return java.util.Optional.ofNullable(veto);
    }

    private Step unfreeze(String reason) {
        abortReason = reason;
        phase = Phase.UNFREEZING;
        return step = new Unfreeze(frozen, from);
    }

    private void expect(Phase wanted) {
        if (phase != wanted) {
            throw new IllegalStateException("procedure is " + phase + ", not " + wanted);
        }
    }
}
