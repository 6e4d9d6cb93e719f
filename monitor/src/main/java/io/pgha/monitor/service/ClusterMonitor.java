package io.pgha.monitor.service;

import io.micrometer.core.instrument.MeterRegistry;
import io.pgha.api.ClusterNames;
import io.pgha.api.Labels;
import io.pgha.api.SynchronousStandbyNames;
import io.pgha.api.postgres.Lsn;
import io.pgha.api.v1.Condition;
import io.pgha.api.v1.ConditionTypes;
import io.pgha.api.v1.Conditions;
import io.pgha.api.v1.cluster.PostgresCluster;
import io.pgha.api.v1.cluster.PostgresClusterStatus;
import io.pgha.api.v1.cluster.ProvisioningStatus;
import io.pgha.api.v1.cluster.TopologyStatus;
import io.pgha.monitor.core.Acknowledgers;
import io.pgha.monitor.core.Decider;
import io.pgha.monitor.core.DegradedCondition;
import io.pgha.monitor.core.FailureDetector;
import io.pgha.monitor.core.InstanceObservation;
import io.pgha.monitor.core.LeaseBudget;
import io.pgha.monitor.core.LeaseTerm;
import io.pgha.monitor.core.MaintenanceHold;
import io.pgha.monitor.core.MonitorSettings;
import io.pgha.monitor.core.Procedure;
import io.pgha.monitor.core.TopologyReport;
import io.pgha.monitor.pg.Await;
import io.pgha.monitor.pg.InstanceConnection;
import io.vertx.core.Vertx;
import org.jboss.logging.Logger;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.function.Consumer;

/**
 * Watches one cluster: checks every instance each round, reports to status and metrics, and,
 * while it holds the cluster's lease, carries out what the {@link Decider} decides and the
 * switchovers it is asked for. Rounds run on one thread ({@link #tick()}); the lease is renewed
 * on another ({@link #renewLease()}) so that a long failover step never lets it lapse unnoticed.
 */
public final class ClusterMonitor implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(ClusterMonitor.class);
    /**
     * A switchover stops writes until the target replayed everything: it is refused while the
     * target is further behind than this, so the write pause stays short.
     */
    static final long MAX_SWITCHOVER_LAG_BYTES = 64L * 1024 * 1024;
    /** What re-pointing the standbys would like: slots on the new primary and a reload on each standby. */
    static final Duration REPOINT_TIMEOUT = Duration.ofSeconds(5);

    /** Timing of the things the spec does not set. */
    public record Config(Duration leaseDuration, Duration freezeTimeout, Duration catchUpTimeout,
                         Duration promoteTimeout, Duration checkpointTimeout, Duration statusRefresh) {
        public static Config defaults() {
            return new Config(Duration.ofSeconds(5), Duration.ofSeconds(5), Duration.ofSeconds(30),
                    Duration.ofSeconds(60), Duration.ofSeconds(5), Duration.ofSeconds(5));
        }
    }

    /** The outcome of a switchover request. */
    public record SwitchoverResult(boolean done, String from, String to, Integer timeline, String message) {
    }

    private record SwitchoverRequest(String target, String origin, CompletableFuture<SwitchoverResult> result) {
    }

    private final String namespace;
    private final String name;
    private final ClusterSource clusters;
    private final InstanceDirectory directory;
    private final Fencer fencer;
    private final RoleMarker roles;
    private final LeaderElector elector;
    private final MonitorMetrics metrics;
    private final PgHealthCollector health;
    private final Config config;
    private final Clock clock;

    private final InstancePool pool;
    private final StandbyWiring wiring;
    private final FailureDetector failures = new FailureDetector();
    private final ConcurrentLinkedQueue<SwitchoverRequest> requests = new ConcurrentLinkedQueue<>();
    private final Set<String> annotationsActedOn = new LinkedHashSet<>();

    private volatile Map<String, InstanceObservation> latest = Map.of();
    private volatile PostgresCluster lastSeen;
    private volatile Procedure running;
    private volatile String lastDecision = "";
    /** The running procedure's FailingOver condition, until its first status write (the fence's) carries it. */
    private Condition startCondition;
    /** Runs the next round now; the runner sets it. */
    private volatile Runnable wakeUp = () -> { };
    private Lsn lastPrimaryLsn;
    private Set<String> synchronous = Set.of();
    /** The recorded primary's synchronous_standby_names as last read from it; empty when asynchronous or never read. */
    private Optional<SynchronousStandbyNames.Setting> quorum = Optional.empty();
    /** Instances seen streaming from {@link #streamingFor} since it became the recorded primary. */
    private final Set<String> seenStreaming = new TreeSet<>();
    private String streamingFor;
    private List<TopologyStatus.Instance> lastWritten;
    /** Why the last failover away from {@link #vetoFor}, the still failed primary, was vetoed. */
    private String veto;
    private String vetoFor;
    private Instant lastWrite = Instant.EPOCH;

    public ClusterMonitor(String namespace, String name, Platform platform, Vertx vertx, MeterRegistry registry,
                          String identity, Config config, Clock clock) {
        this.namespace = namespace;
        this.name = name;
        this.clusters = platform.clusters();
        this.directory = platform.instances(namespace, name);
        this.fencer = platform.fencer(namespace, name);
        this.roles = platform.roles(namespace, name);
        this.config = config;
        this.clock = clock;
        this.metrics = new MonitorMetrics(registry, namespace, name, clock);
        this.health = new PgHealthCollector(registry, namespace, name);
        this.pool = new InstancePool(vertx, directory, clock, this::connectionLost);
        this.wiring = new StandbyWiring(pool, directory, () -> latest, clock);
        this.elector = new LeaderElector(platform.lease(namespace, name, identity, config.leaseDuration()), identity,
                config.leaseDuration(), System::nanoTime);
    }

    public String name() {
        return name;
    }

    public String namespace() {
        return namespace;
    }

    public boolean isLeader() {
        return elector.isLeader();
    }

    public String leaseHolder() {
        return elector.holder();
    }

    public String identity() {
        return elector.identity();
    }

    public Map<String, InstanceObservation> latest() {
        return latest;
    }

    public Optional<PostgresCluster> lastSeen() {
        return Optional.ofNullable(lastSeen);
    }

    /** What the last round decided, for people. */
    public String lastDecision() {
        return lastDecision;
    }

    /** The running failover or switchover, if any. */
    public Optional<Procedure> running() {
        return Optional.ofNullable(running);
    }

    /**
     * How long after the start of the last round the next one should start: the check interval,
     * or less while the recorded primary's last check failed outright ({@link FailureDetector#nextCheck}).
     */
    public Duration nextRoundIn() {
        PostgresCluster c = lastSeen;
        Duration interval = c == null ? MonitorSettings.defaults().checkInterval() : MonitorSettings.of(c.getSpec()).checkInterval();
        String primary = c == null || c.getStatus() == null || c.getStatus().topology == null ? null
                : c.getStatus().topology.currentPrimary;
        return primary == null ? interval : failures.nextCheck(primary, interval);
    }

    /** {@code wakeUp} runs the next round at once instead of at its time. */
    public void onWakeUp(Runnable wakeUp) {
        this.wakeUp = wakeUp;
    }

    /**
     * The recorded primary closed the monitor's connection: a killed server does that at once,
     * so the next round runs now instead of up to a check interval later. Other instances wait for
     * their round; a restart of the primary under a maintenance hold only gets an early round.
     */
    private void connectionLost(String instance) {
        PostgresCluster c = lastSeen;
        TopologyStatus t = c == null || c.getStatus() == null ? null : c.getStatus().topology;
        if (t != null && instance.equals(t.currentPrimary)) {
            wakeUp.run();
        }
    }

    /** Called on the lease thread, a few times per lease duration. */
    public boolean renewLease() {
        boolean leader = elector.renew();
        metrics.leader(leader);
        return leader;
    }

    /** Queues a switchover; it runs in a coming round if this monitor is the leader. */
    public CompletableFuture<SwitchoverResult> requestSwitchover(String target) {
        CompletableFuture<SwitchoverResult> result = new CompletableFuture<>();
        if (!elector.isLeader()) {
            result.completeExceptionally(new NotLeaderException(elector.holder()));
            return result;
        }
        requests.add(new SwitchoverRequest(target, "requested through the REST API", result));
        return result;
    }

    /** One round: observe, report, decide, act. Never throws. */
    public void tick() {
        try {
            round();
        } catch (ClusterSource.LeaseLostException e) {
            LOG.warnf("status write for %s/%s refused, this monitor no longer leads: %s", namespace, name, e.getMessage());
        } catch (RuntimeException e) {
            if (Thread.currentThread().isInterrupted()) {
                LOG.debugf("monitor round for %s/%s interrupted: the monitor stops", namespace, name);
            } else {
                LOG.errorf(e, "monitor round for %s/%s failed", namespace, name);
            }
        }
    }

    private void round() {
        Optional<PostgresCluster> found = clusters.get(namespace, name);
        if (found.isEmpty()) {
            lastSeen = null;
            failPending("cluster " + namespace + "/" + name + " does not exist");
            return;
        }
        PostgresCluster cluster = found.get();
        lastSeen = cluster;
        PostgresClusterStatus status = cluster.getStatus();
        List<ProvisioningStatus.Instance> provisioned = status == null || status.provisioning == null ? List.of()
                : status.provisioning.instances;
        Optional<InstanceDirectory.Credentials> superuser = directory.superuser();
        if (provisioned.isEmpty() || superuser.isEmpty()) {
            lastDecision = "waiting for the provisioner to create instances";
            return;
        }
        MonitorSettings settings = MonitorSettings.of(cluster.getSpec());
        pool.sync(provisioned, superuser.get());
        List<String> names = pool.names();
        TopologyStatus topology = status.topology == null ? new TopologyStatus() : status.topology;

        // a round waits one interval for answers: a late one is not lost (it comes with the next
        // round) and no answer is judged by how long the instance has been silent, not per check
        Map<String, InstanceObservation> observed = pool.observeAll(settings.checkInterval());
        observed.forEach((n, o) -> {
            boolean primary = n.equals(topology.currentPrimary);
            // the platform is asked only about a recorded primary that refused: the one failure it can speed up
            boolean gone = primary && !o.reachable() && o.silence() == null && directory.serverGone(n);
            int failed = failures.record(o, primary, pool.ready(n), gone, settings.failureThreshold(),
                    settings.checkInterval(), observed);
            if (primary && failed > 0) {
                LOG.infof("primary %s failed check %d of %d: %s%s", n, failed, settings.failureThreshold(),
                        !o.reachable() ? o.error() : o.isStandby() ? "answers from recovery" : "its pod is not ready",
                        gone ? " and its server process is gone" : "");
            } else if (primary && o.silence() != null) {
                LOG.infof("primary %s does not answer (%s) but its standbys still receive its WAL: slow, not failed", n,
                        o.error());
            }
        });
        failures.retain(names);
        latest = observed;
        InstanceObservation primaryObs = topology.currentPrimary == null ? null : observed.get(topology.currentPrimary);
        if (primaryObs != null && primaryObs.isPrimary()) {
            lastPrimaryLsn = primaryObs.currentLsn();
            Set<String> sync = new TreeSet<>();
            primaryObs.replicas().stream().filter(InstanceObservation.Replica::synchronous).forEach(r -> sync.add(r.instance()));
            synchronous = sync;
            observeQuorum(topology.currentPrimary, primaryObs);
        }
        Set<String> fenced = new TreeSet<>(topology.fenced);
        List<TopologyStatus.Instance> report = TopologyReport.instances(names, topology.currentPrimary, fenced, observed);
        metrics.observed(report, observed);
        metrics.timeline(topology.timeline);

        boolean leader = elector.isLeader();
        metrics.leader(leader);
        health.round(leader, topology.currentPrimary, observed, pool::connectionIfAny);
        Map<String, Integer> failureCounts = new HashMap<>();
        names.forEach(n -> failureCounts.put(n, failures.failures(n)));
        Map<String, String> holds = new HashMap<>();
        provisioned.forEach(i -> holds.put(i.name, i.maintenanceUntil));
        Decider.View view = new Decider.View(leader, settings, names, topology.currentPrimary, topology.timeline, fenced,
                observed, failureCounts, MaintenanceHold.unexpired(holds, clock.instant()),
                topology.currentPrimary != null && topology.currentPrimary.equals(streamingFor) ? Set.copyOf(seenStreaming) : Set.of());
        Decider.Decision decision = Decider.decide(view);
        lastDecision = describe(decision);
        if (!leader) {
            failPending("this monitor is not the leader");
            return;
        }
        if (!elector.term().map(t -> t.equals(LeaseTerm.of(topology))).orElse(false)) {
            // a new term is recorded before this monitor acts on anything: from then on every
            // write of a previous leader is refused, also one it still has in flight
            updateStatus(t -> { });
            LOG.infof("%s/%s: status now written under lease term %s", namespace, name, elector.term().orElse(null));
        }
        Set<String> rejoined = Decider.rejoined(view);
        if (!(decision instanceof Decider.Failover f && f.failedPrimary().equals(vetoFor))) {
            veto = null;
            vetoFor = null;
        }
        writeTopology(report, rejoined, decision);
        markRoles(names);

        if (decision instanceof Decider.Failover f) {
            Set<String> members = Acknowledgers.of(f.failedPrimary(), f.failedPrimary().equals(streamingFor) ? quorum : Optional.empty(),
                    names, fenced, f.failedPrimary().equals(streamingFor) ? seenStreaming : Set.of());
            runProcedure(Procedure.failover(f.failedPrimary(), names, synchronous, fenced, settings, members, lastPrimaryLsn),
                    f.reason(), settings);
        } else if (decision instanceof Decider.Adopt a) {
            adopt(a, topology.currentPrimary, names);
        } else if (decision instanceof Decider.Refence r) {
            LOG.warnf("%s: fencing it again", r.reason());
            Fencer.Result result = fencer.fence(r.instance(), false, true, null);
            LOG.infof("re-fencing %s: %s", r.instance(), result.detail());
        } else if (decision instanceof Decider.Idle
                && primaryObs != null && primaryObs.isPrimary() && !fenced.contains(topology.currentPrimary)) {
            wiring.repair(topology.currentPrimary, names, observed);
            if (!switchoverFromAnnotation(cluster, topology, names, fenced, settings)) {
                SwitchoverRequest request = requests.poll();
                if (request != null) {
                    switchover(request, topology.currentPrimary, names, fenced, settings);
                }
            }
        }
    }

    private static String describe(Decider.Decision d) {
        if (d instanceof Decider.Hold h) {
            return "holding: " + h.reason();
        }
        if (d instanceof Decider.Failover f) {
            return "failing over: " + f.reason();
        }
        if (d instanceof Decider.Refence r) {
            return "re-fencing: " + r.reason();
        }
        if (d instanceof Decider.Adopt a) {
            return "adopting: " + a.reason();
        }
        return ((Decider.Idle) d).why();
    }

    /**
     * Remembers what the primary says about who can acknowledge its commits: its live
     * synchronous_standby_names and the standbys streaming from it (kept since it became the
     * primary: one that streamed and then stopped may still hold the last commits).
     */
    private void observeQuorum(String primary, InstanceObservation o) {
        if (!primary.equals(streamingFor)) {
            seenStreaming.clear();
            streamingFor = primary;
        }
        o.replicas().stream().filter(r -> "streaming".equals(r.state())).forEach(r -> seenStreaming.add(r.instance()));
        try {
            quorum = SynchronousStandbyNames.parse(o.synchronousStandbyNames());
        } catch (IllegalArgumentException e) {
            LOG.warnf("cannot read synchronous_standby_names of %s (%s): counting the recorded standbys", primary, e.getMessage());
            quorum = Optional.empty();
        }
    }

    // ---------------------------------------------------------------- status

    private void writeTopology(List<TopologyStatus.Instance> report, Set<String> rejoined, Decider.Decision decision) {
        boolean meaningful = lastWritten == null || TopologyReport.meaningfullyDifferent(lastWritten, report)
                || !rejoined.isEmpty();
        boolean due = !clock.instant().isBefore(lastWrite.plus(config.statusRefresh()));
        Condition degraded = DegradedCondition.of(report, decision, veto);
        PostgresCluster seen = lastSeen;
        boolean conditionChanged = seen == null || seen.getStatus() == null
                || !Conditions.find(seen.getStatus().conditions, ConditionTypes.DEGRADED).map(c -> c.sameAs(degraded)).orElse(false);
        if (!meaningful && !due && !conditionChanged) {
            return;
        }
        updateStatus(t -> {
            t.instances = report;
            t.fenced.removeAll(rejoined);
        }, degraded);
        if (!rejoined.isEmpty()) {
            LOG.infof("%s rejoined as standby: no longer fenced", rejoined);
        }
        lastWritten = report;
        lastWrite = clock.instant();
    }

    /**
     * Changes the monitor's part of the status, topology and its own conditions, nothing else,
     * under this monitor's lease term.
     *
     * @throws ClusterSource.LeaseLostException when this monitor does not lead, or the platform
     *                                          refused the write (a newer term exists)
     */
    private void updateStatus(Consumer<TopologyStatus> change, Condition... conditions) {
        LeaseTerm term = elector.term().orElseThrow(() -> new ClusterSource.LeaseLostException(
                "this monitor's lease on " + namespace + "/" + name + " lapsed"));
        clusters.updateStatus(namespace, name, term, s -> {
            if (s.topology == null) {
                s.topology = new TopologyStatus();
            }
            change.accept(s.topology);
            for (Condition condition : conditions) {
                s.conditions = Conditions.with(s.conditions, condition, clock);
            }
        }).ifPresent(c -> lastSeen = c);
    }

    /**
     * The platform's role marks after the recorded topology: the primary unless fenced, standby
     * for the rest. Every leading round, so that a mark that failed is set again.
     */
    private void markRoles(List<String> names) {
        PostgresCluster c = lastSeen;
        TopologyStatus t = c == null || c.getStatus() == null ? null : c.getStatus().topology;
        if (t == null || t.currentPrimary == null) {
            return;
        }
        try {
            roles.mark(t.currentPrimary, names, t.fenced);
        } catch (RuntimeException e) {
            LOG.warnf("cannot mark %s as the primary of %s/%s: %s", t.currentPrimary, namespace, name, e.getMessage());
        }
    }

    // ---------------------------------------------------------------- failover and switchover

    private void switchover(SwitchoverRequest request, String primary, List<String> names, Set<String> fenced,
                            MonitorSettings settings) {
        String target = request.target();
        if (target == null || target.isBlank()) {
            List<InstanceObservation> standbys = names.stream().filter(n -> !n.equals(primary) && !fenced.contains(n))
                    .map(latest::get).filter(o -> o != null && o.isStandby() && o.streaming()).toList();
            var choice = io.pgha.monitor.core.CandidateSelector.choose(standbys, synchronous, fenced, settings, Set.of(), null, false);
            if (!(choice instanceof io.pgha.monitor.core.CandidateSelector.Chosen chosen)) {
                request.result().complete(new SwitchoverResult(false, primary, null, null, "no streaming standby to switch over to"));
                return;
            }
            target = chosen.name();
        }
        InstanceObservation t = latest.get(target);
        String problem = !names.contains(target) ? target + " is not an instance of " + name
                : target.equals(primary) ? target + " is the primary already"
                : fenced.contains(target) ? target + " is fenced until it rejoins"
                : t == null || !t.isStandby() || !t.streaming() ? target + " is not a streaming standby"
                : behind(primary, t) > MAX_SWITCHOVER_LAG_BYTES ? target + " is " + behind(primary, t)
                + " bytes behind the primary: try again once it caught up" : null;
        if (problem != null) {
            request.result().complete(new SwitchoverResult(false, primary, target, null, problem));
            return;
        }
        Procedure p = Procedure.switchover(primary, target, names, fenced);
        boolean done = runProcedure(p, "switchover to " + target + " " + request.origin(), settings);
        Integer timeline = lastSeen == null || lastSeen.getStatus() == null || lastSeen.getStatus().topology == null ? null
                : lastSeen.getStatus().topology.timeline;
        request.result().complete(new SwitchoverResult(done, primary, target, done ? timeline : null,
                done ? "switched over from " + primary + " to " + target : p.abortReason()));
    }

    /**
     * Records a primary promoted by a monitor that died before recording it: the failed recorded
     * primary is fenced, the promoted one becomes current, the others follow it.
     */
    private void adopt(Decider.Adopt a, String failed, List<String> names) {
        LOG.warnf("%s", a.reason());
        InstanceObservation last = latest.get(failed);
        Fencer.Result fenced = fencer.fence(failed, false, last != null && last.reachable(), null);
        if (!fenced.ok()) {
            LOG.warnf("cannot fence %s before adopting %s: %s", failed, a.instance(), fenced.detail());
            return;
        }
        String now = clock.instant().truncatedTo(ChronoUnit.MILLIS).toString();
        updateStatus(t -> {
            if (!t.fenced.contains(failed)) {
                t.fenced.add(failed);
            }
            t.currentPrimary = a.instance();
            t.timeline = a.timeline();
            t.targetPrimary = null;
            TopologyStatus.Promotion h = new TopologyStatus.Promotion();
            h.kind = Procedure.Kind.FAILOVER.label();
            h.from = failed;
            h.to = a.instance();
            h.timeline = a.timeline();
            h.startedAt = now;
            h.finishedAt = now;
            h.reason = a.reason();
            t.history.add(h);
        }, new Condition(ConditionTypes.FAILING_OVER, Condition.FALSE, "Adopted", a.reason()));
        failures.reset(failed);
        markRoles(names);
        wiring.repoint(a.instance(), names.stream().filter(n -> !n.equals(a.instance()) && !n.equals(failed)).toList(),
                budget(new Procedure.Repoint(a.instance(), List.of())).orElse(Duration.ZERO));
        lastWritten = null;
    }

    /** Bytes of WAL {@code standby} has not replayed yet, as of the last round. */
    private long behind(String primary, InstanceObservation standby) {
        InstanceObservation p = latest.get(primary);
        if (p == null || !p.isPrimary() || p.currentLsn() == null || standby.replayLsn() == null) {
            return 0;
        }
        return Math.max(0, p.currentLsn().minus(standby.replayLsn()));
    }

    /**
     * The switchover annotation, acted on once per target it names (history remembers which):
     * to go back to a target named before, use the REST API.
     */
    private boolean switchoverFromAnnotation(PostgresCluster cluster, TopologyStatus topology, List<String> names,
                                            Set<String> fenced, MonitorSettings settings) {
        Map<String, String> annotations = cluster.getMetadata().getAnnotations();
        String target = annotations == null ? null : annotations.get(Labels.SWITCHOVER_ANNOTATION);
        if (target == null || target.isBlank() || target.equals(topology.currentPrimary) || annotationsActedOn.contains(target)) {
            return false;
        }
        String origin = "requested by annotation " + Labels.SWITCHOVER_ANNOTATION;
        // once per target for good, also across monitor restarts: a later failover away from the
        // target must not bring a surprise switchover back to it (the REST API can, on request)
        boolean alreadyDone = topology.history.stream().anyMatch(h -> target.equals(h.to)
                && Procedure.Kind.SWITCHOVER.label().equals(h.kind) && String.valueOf(h.reason).contains(origin));
        annotationsActedOn.add(target);
        if (alreadyDone) {
            return false;
        }
        CompletableFuture<SwitchoverResult> result = new CompletableFuture<>();
        switchover(new SwitchoverRequest(target, origin, result), topology.currentPrimary, names, fenced, settings);
        SwitchoverResult r = result.join();
        LOG.infof("annotation switchover to %s: %s", target, r.message());
        return true;
    }

    /**
     * Runs a procedure to its end on this thread. Before every step it checks the lease: a
     * monitor that lost it stops at once.
     */
    private boolean runProcedure(Procedure p, String reason, MonitorSettings settings) {
        Instant started = clock.instant();
        running = p;
        LOG.infof("%s from %s: %s", p.kind().label(), p.from(), reason);
        // written with the fence, the procedure's first write: a status write of its own here cost the
        // failover a write's time (hundreds of ms on a loaded machine) before its first step
        startCondition = new Condition(ConditionTypes.FAILING_OVER, Condition.TRUE,
                p.kind() == Procedure.Kind.FAILOVER ? "FailingOver" : "SwitchingOver", reason);
        try {
            Procedure.Step step = p.step();
            while (!p.finished()) {
                Optional<Duration> budget = budget(step);
                if (budget.isEmpty()) {
                    step = p.abort("lost the monitor lease during " + p.phase());
                    break;
                }
                LOG.infof("%s: %s", p.kind().label(), step);
                step = perform(p, step, reason, started, budget.get());
            }
            Duration took = Duration.between(started, clock.instant());
            boolean done = p.phase() == Procedure.Phase.DONE;
            if (done) {
                failures.reset(p.from());
                LOG.infof("%s from %s to %s done in %d ms", p.kind().label(), p.from(), p.candidate(), took.toMillis());
            } else {
                LOG.warnf("%s from %s aborted: %s", p.kind().label(), p.from(), p.abortReason());
            }
            metrics.procedureFinished(p.kind().label(), done, took);
            Condition finished = new Condition(ConditionTypes.FAILING_OVER, Condition.FALSE,
                    done ? "Completed" : "Aborted", done ? p.kind().label() + " from " + p.from() + " to " + p.candidate()
                    + " done in " + took.toMillis() + " ms" : p.abortReason());
            if (p.veto().isPresent()) {
                veto = p.veto().get();
                vetoFor = p.from();
                updateStatus(t -> t.targetPrimary = null, finished, DegradedCondition.of(List.of(),
                        new Decider.Failover(p.from(), reason), veto));
            } else {
                updateStatus(t -> t.targetPrimary = null, finished);
            }
            return done;
        } catch (ClusterSource.LeaseLostException e) {
            // nothing more may be written: the successor sees the procedure's state from the instances
            LOG.warnf("%s from %s stopped in %s, this monitor no longer leads: %s", p.kind().label(), p.from(), p.phase(),
                    e.getMessage());
            metrics.procedureFinished(p.kind().label(), false, Duration.between(started, clock.instant()));
            return false;
        } catch (RuntimeException e) {
            if (Thread.currentThread().isInterrupted()) {
                LOG.warnf("%s from %s interrupted in %s: the monitor stops", p.kind().label(), p.from(), p.phase());
                throw e;
            }
            LOG.errorf(e, "%s from %s failed", p.kind().label(), p.from());
            metrics.procedureFinished(p.kind().label(), false, Duration.between(started, clock.instant()));
            updateStatus(t -> t.targetPrimary = null, new Condition(ConditionTypes.FAILING_OVER, Condition.FALSE,
                    "Failed", String.valueOf(e.getMessage())));
            return false;
        } finally {
            running = null;
            startCondition = null;
            lastWritten = null;
        }
    }

    /**
     * The time {@code step} may take under the lease ({@link LeaseBudget}); the lease is renewed
     * first when what is left of it is shorter than the step would like. Empty: this monitor no
     * longer leads, or not long enough to start the step.
     */
    private Optional<Duration> budget(Procedure.Step step) {
        Duration wanted = wanted(step);
        Optional<Duration> budget = LeaseBudget.stepTimeout(elector.remaining(), wanted);
        if (budget.isEmpty() || budget.get().compareTo(wanted) < 0) {
            elector.renew();
            budget = LeaseBudget.stepTimeout(elector.remaining(), wanted);
        }
        return budget;
    }

    /**
     * How long a step would like. Fencing and awaiting catch-up are not bound by the lease:
     * waiting for replay changes nothing, and fencing the old primary late is what any successor
     * does first too (see the README); both only need the lease to start.
     */
    private Duration wanted(Procedure.Step step) {
        if (step instanceof Procedure.Freeze || step instanceof Procedure.Unfreeze || step instanceof Procedure.Recheck) {
            return config.freezeTimeout();
        }
        if (step instanceof Procedure.Promote) {
            return config.promoteTimeout();
        }
        if (step instanceof Procedure.Repoint) {
            return REPOINT_TIMEOUT;
        }
        return LeaseBudget.MINIMUM_STEP;
    }

    private Procedure.Step perform(Procedure p, Procedure.Step step, String reason, Instant started, Duration budget) {
        if (step instanceof Procedure.Freeze f) {
            StandbyWiring.Frozen frozen = wiring.freeze(f.standbys(), budget);
            return p.frozen(frozen.positions(), frozen.stillReceiving());
        }
        if (step instanceof Procedure.Recheck r) {
            Map<String, InstanceObservation> now = new java.util.LinkedHashMap<>();
            r.standbys().forEach(s -> now.put(s, pool.observe(s)));
            LOG.infof("after the fence: %s", now.values().stream()
                    .map(o -> o.name() + "=" + (o.reachable() ? "tli " + o.timeline() + " " + o.position() : o.error())).toList());
            return p.rechecked(now);
        }
        if (step instanceof Procedure.Fence f) {
            return fence(p, f);
        }
        if (step instanceof Procedure.AwaitCatchUp a) {
            return awaitCatchUp(p, a);
        }
        if (step instanceof Procedure.Promote pr) {
            return promote(p, pr, reason, started, budget);
        }
        if (step instanceof Procedure.Repoint r) {
            wiring.repoint(r.newPrimary(), r.standbys(), budget);
            return p.repointed();
        }
        if (step instanceof Procedure.Unfreeze u) {
            wiring.unfreeze(u.standbys(), u.primary(), budget);
            return p.unfrozen();
        }
        return step;
    }

    private Procedure.Step fence(Procedure p, Procedure.Fence f) {
        String candidate = p.candidate();
        // recorded before the stop: from here on nothing may treat it as the primary
        Condition[] started = startCondition == null ? new Condition[0] : new Condition[]{startCondition};
        updateStatus(t -> {
            if (!t.fenced.contains(f.instance())) {
                t.fenced.add(f.instance());
            }
            t.targetPrimary = candidate;
        }, started);
        startCondition = null;
        InstanceObservation last = latest.get(f.instance());
        InstanceDirectory.Endpoint at = candidate != null && pool.contains(candidate) ? pool.endpoint(candidate) : null;
        Fencer.Demotion demotion = f.clean() && at != null
                ? new Fencer.Demotion(directory.replicationConninfo(f.instance(), at).toString(),
                ClusterNames.replicationSlot(f.instance())) : null;
        // checked before the stop: whether the candidate streamed from it, and so was handed its WAL at the end
        boolean streamedToCandidate = last != null && last.isPrimary() && last.replicas().stream()
                .anyMatch(x -> x.instance().equals(candidate) && "streaming".equals(x.state()));
        Fencer.Result r = fencer.fence(f.instance(), f.clean(), last != null && last.reachable(), demotion);
        LOG.infof("fencing %s: %s", f.instance(), r.detail());
        Lsn end = r.finalLsn();
        if (f.clean() && r.ok() && end == null && r.handedOver() && streamedToCandidate) {
            end = handedOverEnd(candidate);
        }
        return p.fenced(r.ok(), end, r.detail());
    }

    /**
     * The end of a cleanly stopped primary's WAL as the candidate that streamed from it received
     * it (where the platform cannot read the stopped server's control file): its WAL senders
     * exited only once the candidate had written everything up to the shutdown checkpoint.
     */
    private Lsn handedOverEnd(String candidate) {
        InstanceObservation o = pool.observe(candidate);
        if (!o.isStandby() || o.receiveLsn() == null) {
            LOG.warnf("cannot read what %s received: %s", candidate, o.reachable() ? "not a standby" : o.error());
            return null;
        }
        LOG.infof("%s received the old primary's WAL up to %s", candidate, o.receiveLsn());
        return o.receiveLsn();
    }

    private Procedure.Step awaitCatchUp(Procedure p, Procedure.AwaitCatchUp a) {
        try {
            InstanceObservation o = Await.result(pool.connection(a.candidate()).awaitCatchUp(a.atLeast(), config.catchUpTimeout()),
                    config.catchUpTimeout().plusSeconds(5));
            return p.caughtUp(true, "replayed up to " + o.replayLsn());
        } catch (Await.FailedException e) {
            return p.caughtUp(false, e.getMessage());
        }
    }

    private Procedure.Step promote(Procedure p, Procedure.Promote pr, String reason, Instant started, Duration budget) {
        InstanceConnection c = pool.connection(pr.candidate());
        try {
            // the future fails at the budget; Await's own limit only guards against a future that never completes
            boolean ok = Await.result(c.promote(budget, () -> elector.remaining().compareTo(LeaseBudget.MINIMUM_STEP) >= 0),
                    budget.plus(Await.SLACK));
            InstanceObservation after = pool.observe(pr.candidate());
            if (!ok || !after.isPrimary() || after.timeline() == null) {
                return p.promoted(false, 0, ok ? "not out of recovery: " + after.error() : "pg_promote returned false");
            }
            int timeline = after.timeline();
            checkpoint(c, pr.candidate());
            String from = p.from();
            String kind = p.kind().label();
            updateStatus(t -> {
                t.currentPrimary = pr.candidate();
                t.timeline = timeline;
                TopologyStatus.Promotion h = new TopologyStatus.Promotion();
                h.kind = kind;
                h.from = from;
                h.to = pr.candidate();
                h.timeline = timeline;
                h.startedAt = started.truncatedTo(ChronoUnit.MILLIS).toString();
                h.finishedAt = clock.instant().truncatedTo(ChronoUnit.MILLIS).toString();
                h.reason = reason;
                h.lostBytes = p.lostBytes();
                t.history.add(h);
            });
            metrics.timeline(timeline);
            markRoles(pool.names());
            LOG.infof("promoted %s on timeline %d", pr.candidate(), timeline);
            return p.promoted(true, timeline, "");
        } catch (Await.FailedException e) {
            return p.promoted(false, 0, e.getMessage());
        }
    }

    /**
     * A checkpoint on the new primary at once. Promotion only requests one, spread out; until it
     * is done, pg_control still names the old timeline (a former standby's even the one of its
     * last restartpoint), and pg_rewind, which reads the source's timeline from there, would
     * rewind a former primary onto the wrong history.
     */
    private void checkpoint(InstanceConnection c, String instance) {
        try {
            Await.result(c.execute("CHECKPOINT"), config.checkpointTimeout());
        } catch (Await.FailedException e) {
            LOG.warnf("CHECKPOINT on %s did not finish in time (%s): recording the promotion anyway", instance,
                    e.getMessage());
        }
    }

    private void failPending(String why) {
        SwitchoverRequest r;
        while ((r = requests.poll()) != null) {
            r.result().completeExceptionally(new NotLeaderException(why));
        }
    }

    @Override
    public void close() {
        failPending("the monitor is shutting down");
        elector.release();
        health.close();
        pool.close();
        metrics.close();
    }

    /** This monitor may not act: another one holds the lease (or nobody does). */
    public static final class NotLeaderException extends RuntimeException {
        public NotLeaderException(String detail) {
            super(detail == null ? "no monitor holds the lease" : "not the leader: " + detail);
        }
    }
}
