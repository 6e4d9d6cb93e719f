package io.pgha.provisioner.local;

import io.pgha.api.ClusterNames;
import io.pgha.api.RouterAuth;
import io.pgha.api.postgres.RecoveryMinimums;
import io.pgha.api.v1.Condition;
import io.pgha.api.v1.ConditionTypes;
import io.pgha.api.v1.Conditions;
import io.pgha.api.v1.ClusterPhase;
import io.pgha.api.v1.cluster.BootstrapSpec;
import io.pgha.api.v1.cluster.FailoverSpec;
import io.pgha.api.v1.cluster.PostgresCluster;
import io.pgha.api.v1.cluster.PostgresClusterSpec;
import io.pgha.api.v1.cluster.PostgresClusterStatus;
import io.pgha.api.v1.cluster.ProvisioningStatus;
import io.pgha.api.v1.cluster.TopologyStatus;
import io.pgha.local.LocalLayout;
import io.pgha.local.LocalSecrets;
import io.pgha.local.LocalSecrets.Credentials;
import io.pgha.local.OsUser;
import io.pgha.local.PgCtl;
import io.pgha.local.WalToken;
import io.pgha.provisioner.model.Divergence;
import io.pgha.provisioner.model.InstanceFacts;
import io.pgha.provisioner.model.InstancePlan;
import io.pgha.provisioner.model.PostgresConfig;
import io.pgha.provisioner.model.Readiness;
import io.pgha.provisioner.model.RestartSettings;
import io.pgha.provisioner.model.RollingRestart;
import io.pgha.api.postgres.TimelineHistory;
import io.pgha.local.store.FileResourceStore;
import org.jboss.logging.Logger;

import java.nio.file.Path;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import java.util.stream.Collectors;

/**
 * The local platform's reconciler: one pass makes at most one provisioning step towards the spec
 * (bootstrap the primary, add or remove one standby, rejoin one former primary, restart one
 * crashed standby, rewind one standby ahead of the primary's fork point, restart one instance of a
 * rolling restart) and then reports phase,
 * provisioning and the Ready condition. It runs on one thread, again and again; every pass starts
 * from what is on disk and in the store.
 */
public final class LocalProvisioner {
    private static final Logger LOG = Logger.getLogger(LocalProvisioner.class);
    /**
     * How long the monitor holds back a failover of a primary this provisioner restarts in place on
     * purpose: the restart's settle (a checkpoint and up to 30 s for the archiver) plus a stop and a
     * start that took up to 8 s each on a saturated machine, with room to spare. Bounded, so that a
     * restart that hangs still ends in a failover.
     */
    private static final Duration MAINTENANCE_HOLD = Duration.ofSeconds(90);

    private final LocalLayout layout;
    private final FileResourceStore store;
    private final LocalSecrets secrets;
    private final LocalInstances instances;
    private final Clock clock;
    /** How long a crashed standby stays down before it is restarted, so that its crash is visible. */
    private final Duration restartDelay;
    private final Map<String, Instant> downSince = new HashMap<>();
    /**
     * How long a standby must be seen ahead of the primary's fork point before it is rewound: the
     * monitor re-points standbys after a failover, and the rule is checked again over that time
     * rather than trusted from one look.
     */
    private final Duration divergedGrace;
    private final Map<String, Instant> aheadSince = new HashMap<>();
    /** The passes' connections to the instances, kept between passes; passes run on one thread. */
    private final KeptConnections probes = new KeptConnections();
    /** Set by {@link #stopAll}: passes do nothing until the next apply, so nothing restarts what pgha down stopped. */
    private volatile boolean paused;
    /**
     * Restarts asked for ({@code pgha restart}): an instance is due one while its postmaster
     * started before the request. Kept in memory: a provisioner that restarts forgets them.
     */
    private final Map<String, Instant> restartRequested = new ConcurrentHashMap<>();
    private final MonitorClient monitor;
    /** The PostgreSQL OS user, which must read the cluster's WAL token (archive_command and restore_command run as it). */
    private final OsUser pgUser;

    public LocalProvisioner(LocalLayout layout, FileResourceStore store, PgCtl pgCtl, Duration restartDelay,
                            Duration divergedGrace, Clock clock) {
        this.restartDelay = restartDelay;
        this.divergedGrace = divergedGrace;
        this.layout = layout;
        this.store = store;
        this.secrets = new LocalSecrets(layout);
        this.instances = new LocalInstances(layout, pgCtl);
        this.clock = clock;
        this.monitor = new MonitorClient(layout);
        this.pgUser = pgCtl.user();
    }

    /** One pass. Returns true when it changed something, so the caller can go again at once. */
    public boolean reconcile() {
        if (paused) {
            return false;
        }
        List<PostgresCluster> clusters = store.list(PostgresCluster.class, LocalLayout.NAMESPACE);
        if (clusters.isEmpty()) {
            return false;
        }
        PostgresCluster cluster = clusters.get(0);
        String name = cluster.getMetadata().getName();
        PostgresClusterSpec spec = cluster.getSpec();
        ProvisioningStatus provisioning = Optional.ofNullable(cluster.getStatus()).map(s -> s.provisioning)
                .orElseGet(ProvisioningStatus::new);
        Credentials superuser = secrets.getOrCreate(ClusterNames.superuserSecret(name), ClusterNames.SUPERUSER, "postgres");
        Credentials replication = secrets.getOrCreate(ClusterNames.replicationSecret(name), ClusterNames.REPLICATION_USER, "postgres");
        var initdb = spec.bootstrap.effectiveInitdb();
        Credentials app = secrets.getOrCreate(ClusterNames.appSecret(name), initdb.owner, initdb.database);
        Credentials routerAuth = secrets.getOrCreate(ClusterNames.routerAuthSecret(name), ClusterNames.ROUTER_AUTH_USER,
                RouterAuth.DATABASE);

        if (provisioning.instances.isEmpty() && spec.bootstrap.recovery != null) {
            return restore(cluster, superuser, replication, app, routerAuth);
        }
        if (provisioning.instances.isEmpty()) {
            String primary = ClusterNames.instance(name, 1);
            progress(cluster, ClusterPhase.SETTING_UP_PRIMARY, "creating primary " + primary + " with initdb");
            instances.createPrimary(primary, 1, initdb.locale, localSharedSettings(name, spec, List.of(primary), null),
                    superuser, replication, app, routerAuth);
            record(cluster, p -> p.instances.add(new ProvisioningStatus.Instance(primary, 1, ProvisioningStatus.Instance.CREATED_BY_INITDB)),
                    primary, 1);
            return true;
        }

        String primary = currentPrimary(cluster);
        int primarySerial = provisioning.instance(primary).map(i -> i.serial).orElseThrow();
        List<String> names = provisioning.instances.stream().map(i -> i.name).toList();
        Map<String, String> shared = localSharedSettings(name, spec, planNames(name, spec, provisioning, primarySerial),
                provisioning.carriedSettings);

        if (startOrRejoin(cluster, provisioning, primary, primarySerial, shared, superuser, replication)) {
            return true;
        }

        InstancePlan plan = InstancePlan.of(spec.instances,
                provisioning.instances.stream().map(i -> i.serial).collect(Collectors.toSet()), primarySerial);
        if (!plan.create().isEmpty() && instances.running(primary)) {
            int serial = plan.create().get(0);
            String standby = ClusterNames.instance(name, serial);
            progress(cluster, ClusterPhase.CREATING_STANDBY, "cloning standby " + standby + " from " + primary + " with pg_basebackup");
            instances.createStandby(standby, serial, shared, instances.port(primarySerial), superuser, replication);
            record(cluster, p -> p.instances.add(new ProvisioningStatus.Instance(standby, serial, ProvisioningStatus.Instance.CREATED_BY_CLONE)), null);
            return true;
        }
        if (!plan.remove().isEmpty()) {
            String standby = ClusterNames.instance(name, plan.remove().get(0));
            progress(cluster, ClusterPhase.REMOVING_STANDBY, "removing standby " + standby + " and its slot");
            instances.remove(standby, instances.running(primary) ? instances.port(primarySerial) : null, superuser);
            record(cluster, p -> p.instances.removeIf(i -> i.name.equals(standby)), null);
            return true;
        }

        for (ProvisioningStatus.Instance i : provisioning.instances) {
            if (instances.writeConfig(i.name, shared) && instances.running(i.name)) {
                LOG.infof("configuration of %s changed: reloading", i.name);
                instances.reload(i.serial, superuser);
            }
        }
        Map<String, InstanceFacts> facts = look(cluster, names, superuser);
        if (rewindDiverged(cluster, provisioning, primary, primarySerial, facts, shared, superuser, replication)) {
            return true;
        }
        Rollout rollout = rollingRestart(cluster, provisioning, primary, primarySerial, facts, shared, superuser);
        if (rollout.acted()) {
            return true;
        }
        report(cluster, primary, facts, rollout.message());
        return false;
    }

    /** What a pass did about restarts: whether it restarted or switched over, and what is still due (null: nothing). */
    private record Rollout(boolean acted, String message) {
    }

    /**
     * Settings only a restart applies, and restarts asked for, reach the instances one at a time
     * in the order {@link RollingRestart} decides: standbys first, then a switchover, then the
     * former primary; the primary first when the change lowers a setting standbys must match.
     * Which instances are due comes from the servers themselves (pending_restart after the
     * configuration was reloaded, and when each postmaster started).
     */
    private Rollout rollingRestart(PostgresCluster cluster, ProvisioningStatus provisioning, String primary, int primarySerial,
                                   Map<String, InstanceFacts> facts, Map<String, String> shared, Credentials superuser) {
        Map<String, InstanceProbe.RestartState> states = new HashMap<>();
        Map<String, Boolean> due = new LinkedHashMap<>();
        for (ProvisioningStatus.Instance i : provisioning.instances) {
            Optional<InstanceProbe.RestartState> state = facts.get(i.name).reachable()
                    ? InstanceProbe.restartState(instances.port(i.serial), superuser, probes) : Optional.empty();
            state.ifPresent(st -> states.put(i.name, st));
            // an instance that is down starts with the configuration on disk anyway
            due.put(i.name, state.map(st -> st.due(restartRequested.get(i.name))).orElse(false));
        }
        restartRequested.keySet().removeIf(n -> provisioning.instance(n).isEmpty()
                || states.containsKey(n) && !states.get(n).due(restartRequested.get(n)));
        InstanceProbe.RestartState p = states.get(primary);
        boolean primaryFirst = p != null && RestartSettings.primaryFirst(p.running(), desiredRestartSettings(shared, p.defaults()));
        boolean ready = Readiness.evaluate(cluster.getSpec().instances, primary, facts).ready();
        RollingRestart.Step step = RollingRestart.next(primary, due, ready, primaryFirst);
        if (step instanceof RollingRestart.Nothing) {
            return new Rollout(false, null);
        }
        if (step instanceof RollingRestart.Wait w) {
            return new Rollout(false, w.reason());
        }
        if (step instanceof RollingRestart.RestartInPlace r) {
            progress(cluster, ClusterPhase.WAITING_FOR_INSTANCES, r.reason() + restartWhy(states.get(r.instance())));
            int serial = provisioning.instance(r.instance()).orElseThrow().serial;
            boolean isPrimary = r.instance().equals(primary);
            if (isPrimary) {
                Instant until = clock.instant().plus(MAINTENANCE_HOLD);
                LOG.infof("holding failover of %s back until %s while it restarts in place", r.instance(), until);
                maintenanceHold(cluster, r.instance(), until.toString());
            }
            try {
                instances.restart(r.instance(), serial, isPrimary ? null : instances.port(primarySerial), superuser);
            } finally {
                if (isPrimary) {
                    // not lifted at once: the monitor's count of the checks the restart failed clears
                    // only with a check that passes, so the hold lasts until it has had time for one
                    FailoverSpec f = cluster.getSpec().failover;
                    Duration recheck = Duration.ofMillis(f.checkIntervalMillis).multipliedBy(f.failureThreshold + 1L);
                    maintenanceHold(cluster, r.instance(), clock.instant().plus(recheck).toString());
                }
            }
            return new Rollout(true, r.reason());
        }
        RollingRestart.Switchover s = (RollingRestart.Switchover) step;
        progress(cluster, ClusterPhase.WAITING_FOR_INSTANCES, s.reason() + restartWhy(p));
        String refused = monitor.switchover(cluster.getMetadata().getName(), s.to());
        if (refused != null) {
            LOG.warnf("switchover to %s for the rolling restart: %s; trying again", s.to(), refused);
            return new Rollout(false, s.reason() + ": " + refused);
        }
        return new Rollout(true, s.reason());
    }

    /** Records until when the monitor holds back a failover of {@code instance} (see {@link #MAINTENANCE_HOLD}). */
    private void maintenanceHold(PostgresCluster cluster, String instance, String until) {
        record(cluster, p -> p.instance(instance).ifPresent(x -> x.maintenanceUntil = until), null);
    }

    private static String restartWhy(InstanceProbe.RestartState state) {
        return state == null || state.pending().isEmpty() ? " (asked for)" : " (for " + String.join(", ", state.pending()) + ")";
    }

    /**
     * What the instances are to run of the settings standbys must match: the configured value, or
     * PostgreSQL's default where the spec names none (a setting taken out of the spec falls back to it).
     */
    private static Map<String, String> desiredRestartSettings(Map<String, String> shared, Map<String, String> defaults) {
        Map<String, String> desired = new TreeMap<>(defaults);
        RestartSettings.of(shared).forEach((k, v) -> desired.put(k.toLowerCase(Locale.ROOT), v));
        return desired;
    }

    /**
     * Asks for a restart of {@code names} (pgha restart): each restarts in the rolling order once
     * the cluster is ready. The cluster is not Ready from now until they all have.
     */
    public void requestRestart(List<String> names) {
        Instant now = clock.instant();
        names.forEach(n -> restartRequested.put(n, now));
        store.list(PostgresCluster.class, LocalLayout.NAMESPACE).forEach(c -> progress(c, ClusterPhase.WAITING_FOR_INSTANCES,
                "restart asked for: " + String.join(", ", names)));
    }

    /** The instances a restart was asked for and that have not restarted since. */
    public Map<String, Instant> restartRequests() {
        return Map.copyOf(restartRequested);
    }

    /**
     * Bootstraps the primary from a backup: the backup service checks the target against the
     * archive and picks the backup before anything starts, then the primary is restored and
     * promoted; the standbys are cloned from it afterwards like any others. A restore that cannot
     * succeed as specified leaves the cluster Failed with the reason, and is not tried again until
     * the manifest changes.
     */
    private boolean restore(PostgresCluster cluster, Credentials superuser, Credentials replication, Credentials app,
                            Credentials routerAuth) {
        String name = cluster.getMetadata().getName();
        PostgresClusterSpec spec = cluster.getSpec();
        if (failedAt(cluster, cluster.getMetadata().getGeneration())) {
            return false;
        }
        BootstrapSpec.Recovery recovery = effectiveRecovery(spec);
        String primary = ClusterNames.instance(name, 1);
        BackupServiceClient source = new BackupServiceClient(layout);
        try {
            progress(cluster, ClusterPhase.RESTORING, "checking the target against the archive of " + recovery.sourceCluster);
            // before the start: the service spools WAL ahead for a restore whose spool directory exists then
            Path spool = instances.emptyRestoreSpool();
            BackupServiceClient.Planned plan = source.start(name, recovery);
            progress(cluster, ClusterPhase.RESTORING, "restoring " + primary + " from backup " + plan.backup() + "; " + plan.window());
            Map<String, String> recoverySettings = PostgresConfig.recoverySettings(recovery.target,
                    PostgresConfig.localRestoreCommand(name, LocalLayout.HOST, layout.httpPort(LocalLayout.Service.BACKUP), spool,
                            layout.restoreArchiveEnd(), WalToken.ensure(layout, name, pgUser)));
            Map<String, String> shared = localSharedSettings(name, spec, List.of(primary), null);
            Map<String, String> carried = RecoveryMinimums.raised(shared, plan.settings());
            if (!carried.isEmpty()) {
                String note = "using the source's " + RecoveryMinimums.describe(carried) + " from backup " + plan.backup()
                        + ": recovery needs them at least as high as there (spec.parameters may set them higher)";
                LOG.info(note);
                progress(cluster, ClusterPhase.RESTORING, note);
                shared.putAll(carried);
            }
            int timeline = instances.restorePrimary(primary, 1, shared, recoverySettings,
                    source, name, plan, message -> progress(cluster, ClusterPhase.RESTORING, message),
                    superuser, replication, app, routerAuth);
            record(cluster, p -> {
                p.instances.add(new ProvisioningStatus.Instance(primary, 1, ProvisioningStatus.Instance.CREATED_BY_RESTORE));
                p.carriedSettings = carried.isEmpty() ? null : carried;
            }, primary, timeline);
            progress(cluster, ClusterPhase.WAITING_FOR_INSTANCES, primary + " restored from backup " + plan.backup()
                    + " and promoted on timeline " + timeline);
            return true;
        } catch (RestoreFailedException e) {
            LOG.error("restore failed: " + e.getMessage());
            instances.stop(primary, PgCtl.StopMode.IMMEDIATE);
            fail(cluster, e.getMessage());
            return false;
        } finally {
            source.end(name);
        }
    }

    /** The source repository: the recovery's own, else this cluster's spec.backup.repository, else the service's default. */
    private static BootstrapSpec.Recovery effectiveRecovery(PostgresClusterSpec spec) {
        BootstrapSpec.Recovery recovery = spec.bootstrap.recovery;
        if (recovery.repository != null || spec.backup == null || spec.backup.repository == null) {
            return recovery;
        }
        BootstrapSpec.Recovery copy = new BootstrapSpec.Recovery();
        copy.sourceCluster = recovery.sourceCluster;
        copy.backup = recovery.backup;
        copy.target = recovery.target;
        copy.repository = spec.backup.repository;
        return copy;
    }

    /** True when this generation of the spec already failed to bootstrap: nothing is tried until it changes. */
    private static boolean failedAt(PostgresCluster cluster, Long generation) {
        PostgresClusterStatus s = cluster.getStatus();
        return s != null && ClusterPhase.FAILED.equals(s.phase) && generation != null && generation.equals(s.observedGeneration);
    }

    private void fail(PostgresCluster cluster, String reason) {
        store.updateStatus(PostgresCluster.class, LocalLayout.NAMESPACE, cluster.getMetadata().getName(), c -> {
            PostgresClusterStatus s = status(c);
            s.phase = ClusterPhase.FAILED;
            s.provisioning.message = reason;
            s.observedGeneration = cluster.getMetadata().getGeneration();
            s.conditions = Conditions.with(s.conditions, new Condition(ConditionTypes.READY, Condition.FALSE,
                    "BootstrapFailed", reason), clock);
            return c;
        });
    }

    /** Stops every instance cleanly (pgha down): the cluster starts again as it was on the next pass. */
    public void stopAll() {
        paused = true;
        for (PostgresCluster cluster : store.list(PostgresCluster.class, LocalLayout.NAMESPACE)) {
            ProvisioningStatus p = cluster.getStatus() == null ? null : cluster.getStatus().provisioning;
            if (p == null || p.instances.isEmpty()) {
                // nothing was created (a bootstrap that failed before recording its primary)
                continue;
            }
            String primary = currentPrimary(cluster);
            // standbys first, so the primary's shutdown checkpoint can still reach them
            p.instances.stream().filter(i -> !i.name.equals(primary)).forEach(i -> instances.stop(i.name, PgCtl.StopMode.FAST));
            instances.stop(primary, PgCtl.StopMode.FAST);
            progress(cluster, ClusterPhase.STOPPED, "all instances stopped");
        }
    }

    /** Resumes passes after {@link #stopAll}. */
    public void resume() {
        paused = false;
    }

    /** Deletes the cluster: stops it and, with purge, removes its data and credentials. */
    public boolean delete(String name, boolean purge) {
        Optional<PostgresCluster> cluster = store.get(PostgresCluster.class, LocalLayout.NAMESPACE, name);
        if (cluster.isEmpty()) {
            return false;
        }
        stopAll();
        store.delete(PostgresCluster.class, LocalLayout.NAMESPACE, name);
        if (purge && cluster.get().getStatus() != null && cluster.get().getStatus().provisioning != null) {
            cluster.get().getStatus().provisioning.instances.forEach(i -> instances.deleteInstanceFiles(i.name));
        }
        return true;
    }

    /**
     * Crashed or stopped instances. A standby that was a primary before rejoins through pg_rewind;
     * a crashed standby is restarted after a short delay. The current primary is started in place
     * only when it was shut down cleanly, failover is off, or it has no standby to fail over to:
     * otherwise restarting it could create a second primary behind the monitor's back.
     */
    private boolean startOrRejoin(PostgresCluster cluster, ProvisioningStatus provisioning, String primary, int primarySerial,
                                  Map<String, String> shared, Credentials superuser, Credentials replication) {
        Instant now = clock.instant();
        boolean primaryRunning = instances.running(primary);
        for (ProvisioningStatus.Instance i : provisioning.instances) {
            if (instances.running(i.name)) {
                downSince.remove(i.name);
                continue;
            }
            boolean isPrimary = i.name.equals(primary);
            boolean wasPrimary = !isPrimary && !instances.isStandbyDataDir(i.name);
            if (isPrimary) {
                boolean fenced = fenced(cluster, i.name);
                if (!fenced && (stoppedCleanly(i.name) || !cluster.getSpec().failover.enabled || provisioning.instances.size() == 1)) {
                    progress(cluster, ClusterPhase.WAITING_FOR_INSTANCES, "starting primary " + i.name);
                    instances.start(i.name, i.serial);
                    return true;
                }
                progress(cluster, ClusterPhase.WAITING_FOR_INSTANCES, "primary " + i.name
                        + (fenced ? " is fenced" : " is down") + ": waiting for the monitor");
            } else if (wasPrimary && primaryRunning) {
                progress(cluster, ClusterPhase.WAITING_FOR_INSTANCES, "former primary " + i.name + " rejoins as a standby of " + primary);
                rejoin(cluster, i, primarySerial, shared, superuser, replication);
                return true;
            } else if (!wasPrimary && (stoppedCleanly(i.name) || delayPassed(downSince, i.name, now, restartDelay))) {
                progress(cluster, ClusterPhase.WAITING_FOR_INSTANCES, "restarting standby " + i.name);
                // after a switchover the standby's slot may not exist yet on the new primary
                instances.startStandby(i.name, i.serial, primaryRunning ? instances.port(primarySerial) : null, superuser);
                downSince.remove(i.name);
                return true;
            }
        }
        return false;
    }

    /**
     * A standby that holds WAL of an older timeline beyond the point where the primary's timeline
     * forked off it can never follow the primary (see {@link Divergence}): once it has been seen so
     * for the grace period, it rejoins the way a former primary does.
     */
    private boolean rewindDiverged(PostgresCluster cluster, ProvisioningStatus provisioning, String primary, int primarySerial,
                                   Map<String, InstanceFacts> facts, Map<String, String> shared, Credentials superuser,
                                   Credentials replication) {
        if (fenced(cluster, primary)) {
            // a failover away from it is under way: a standby rewound onto its timeline would diverge again
            aheadSince.clear();
            return false;
        }
        Instant now = clock.instant();
        InstanceFacts p = facts.get(primary);
        TimelineHistory history = null;
        for (InstanceFacts f : facts.values()) {
            if (f.name().equals(primary) || !Divergence.suspect(p, f)) {
                aheadSince.remove(f.name());
                continue;
            }
            if (history == null) {
                try {
                    history = InstanceProbe.history(instances.port(primarySerial), superuser, p.wal().timeline());
                } catch (SQLException | IllegalArgumentException e) {
                    LOG.warnf("cannot read the history of timeline %d on %s: %s", p.wal().timeline(), primary, e.getMessage());
                    return false;
                }
            }
            if (!Divergence.aheadOfFork(p, f, history)) {
                aheadSince.remove(f.name());
                continue;
            }
            if (!aheadSince.containsKey(f.name())) {
                LOG.infof("standby %s holds WAL of timeline %d beyond where %s's timeline %d forked off it: "
                        + "rewinding it in %s unless it follows", f.name(), f.wal().timeline(), primary, p.wal().timeline(), divergedGrace);
            }
            if (delayPassed(aheadSince, f.name(), now, divergedGrace)) {
                aheadSince.remove(f.name());
                progress(cluster, ClusterPhase.WAITING_FOR_INSTANCES, "standby " + f.name() + " is ahead of the fork point of timeline "
                        + p.wal().timeline() + ": it rejoins as a standby of " + primary);
                rejoin(cluster, provisioning.instance(f.name()).orElseThrow(), primarySerial, shared, superuser, replication);
                return true;
            }
        }
        return false;
    }

    /**
     * Brings {@code i} back as a standby of the primary through pg_rewind (or a fresh clone) and
     * records how, and onto which timeline.
     */
    private void rejoin(PostgresCluster cluster, ProvisioningStatus.Instance i, int primarySerial, Map<String, String> shared,
                        Credentials superuser, Credentials replication) {
        String how = instances.rejoin(i.name, i.serial, shared, instances.port(primarySerial), superuser, replication);
        Integer timeline = Optional.ofNullable(cluster.getStatus().topology).map(t -> t.timeline).orElse(null);
        record(cluster, p -> p.instance(i.name).ifPresent(x -> {
            x.rejoinedBy = how;
            x.rejoinedTimeline = timeline;
        }), null);
    }

    /** The monitor fenced it: it must never take writes again, whatever its data directory says. */
    private static boolean fenced(PostgresCluster cluster, String instance) {
        return Optional.ofNullable(cluster.getStatus()).map(s -> s.topology).map(t -> t.fenced.contains(instance)).orElse(false);
    }

    /** A clean stop (pgha down, a switchover) is no crash: there is nothing to show and nothing to wait for. */
    private boolean stoppedCleanly(String instance) {
        return instances.clusterState(instance).startsWith("shut down");
    }

    private static boolean delayPassed(Map<String, Instant> since, String instance, Instant now, Duration delay) {
        Instant first = since.computeIfAbsent(instance, k -> now);
        return !now.isBefore(first.plus(delay));
    }

    /** The shared settings, with archive_command pushing to this state directory's backup service. */
    /**
     * The settings every instance shares; {@code carried} (status.provisioning.carriedSettings, null
     * when none) are the restored source's values that recovery, and so every standby, needs at
     * least as high: they apply wherever the spec does not set them higher.
     */
    private Map<String, String> localSharedSettings(String name, PostgresClusterSpec spec, List<String> instanceNames,
                                                    Map<String, String> carried) {
        Map<String, String> shared = PostgresConfig.sharedSettings(spec, instanceNames);
        if (carried != null) {
            shared.putAll(RecoveryMinimums.raised(shared, carried));
        }
        // made here, before any instance can archive, and for a state directory from before WAL tokens on its next pass
        shared.put("archive_command", PostgresConfig.localArchiveCommand(name, LocalLayout.HOST,
                layout.httpPort(LocalLayout.Service.BACKUP), WalToken.ensure(layout, name, pgUser)));
        return shared;
    }

    /** The instances that will exist after this plan, so that the quorum names them all. */
    private static List<String> planNames(String name, PostgresClusterSpec spec, ProvisioningStatus provisioning, int primarySerial) {
        Set<Integer> serials = provisioning.instances.stream().map(i -> i.serial).collect(Collectors.toSet());
        InstancePlan plan = InstancePlan.of(spec.instances, serials, primarySerial);
        serials.addAll(plan.create());
        plan.remove().forEach(serials::remove);
        return serials.stream().sorted().map(s -> ClusterNames.instance(name, s)).toList();
    }

    private static String currentPrimary(PostgresCluster cluster) {
        return Optional.ofNullable(cluster.getStatus()).map(s -> s.topology).map(t -> t.currentPrimary)
                .orElseThrow(() -> new IllegalStateException("instances exist but no current primary is recorded"));
    }

    private Map<String, InstanceFacts> look(PostgresCluster cluster, List<String> names, Credentials superuser) {
        Map<String, InstanceFacts> facts = new LinkedHashMap<>();
        for (String n : names) {
            int serial = ClusterNames.serialOf(cluster.getMetadata().getName(), n).orElseThrow();
            facts.put(n, InstanceProbe.look(n, instances.dataDir(n), instances.port(serial), superuser, probes));
        }
        return facts;
    }

    private void report(PostgresCluster cluster, String primary, Map<String, InstanceFacts> facts, String rollout) {
        Readiness evaluated = Readiness.evaluate(cluster.getSpec().instances, primary, facts);
        // a cluster that still owes a restart is not Ready: pgha apply and pgha restart wait for it
        Readiness readiness = evaluated.ready() && rollout != null ? new Readiness(false, rollout) : evaluated;
        Condition ready = new Condition(ConditionTypes.READY, readiness.ready() ? Condition.TRUE : Condition.FALSE,
                readiness.ready() ? "ClusterReady" : "InstancesNotReady", readiness.message());
        store.updateStatus(PostgresCluster.class, LocalLayout.NAMESPACE, cluster.getMetadata().getName(), c -> {
            PostgresClusterStatus s = c.getStatus();
            s.phase = readiness.ready() ? ClusterPhase.READY : ClusterPhase.WAITING_FOR_INSTANCES;
            s.provisioning.message = readiness.message();
            // the generation this pass acted on: the spec may have changed while it ran
            s.observedGeneration = cluster.getMetadata().getGeneration();
            s.conditions = Conditions.with(s.conditions, ready, clock);
            return c;
        });
    }

    private void progress(PostgresCluster cluster, String phase, String message) {
        LOG.info(message);
        store.updateStatus(PostgresCluster.class, LocalLayout.NAMESPACE, cluster.getMetadata().getName(), c -> {
            PostgresClusterStatus s = status(c);
            s.phase = phase;
            s.provisioning.message = message;
            s.conditions = Conditions.with(s.conditions, new Condition(ConditionTypes.READY, Condition.FALSE,
                    phase, message), clock);
            return c;
        });
    }

    private void record(PostgresCluster cluster, Consumer<ProvisioningStatus> change, String initialPrimary) {
        record(cluster, change, initialPrimary, 1);
    }

    /** Changes status.provisioning; {@code initialPrimary} and its timeline are written to topology only at bootstrap. */
    private void record(PostgresCluster cluster, Consumer<ProvisioningStatus> change, String initialPrimary, int timeline) {
        store.updateStatus(PostgresCluster.class, LocalLayout.NAMESPACE, cluster.getMetadata().getName(), c -> {
            PostgresClusterStatus s = status(c);
            change.accept(s.provisioning);
            s.provisioning.instances.sort((a, b) -> Integer.compare(a.serial, b.serial));
            if (initialPrimary != null && s.topology == null) {
                s.topology = new TopologyStatus();
                s.topology.currentPrimary = initialPrimary;
                s.topology.timeline = timeline;
            }
            return c;
        });
    }

    private static PostgresClusterStatus status(PostgresCluster c) {
        if (c.getStatus() == null) {
            c.setStatus(new PostgresClusterStatus());
        }
        if (c.getStatus().provisioning == null) {
            c.getStatus().provisioning = new ProvisioningStatus();
        }
        return c.getStatus();
    }
}
