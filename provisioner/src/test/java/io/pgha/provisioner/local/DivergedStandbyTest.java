package io.pgha.provisioner.local;

import io.pgha.api.ClusterNames;
import io.pgha.api.v1.ClusterPhase;
import io.pgha.api.v1.cluster.PostgresCluster;
import io.pgha.api.v1.cluster.ProvisioningStatus;
import io.pgha.api.v1.cluster.TopologyStatus;
import io.pgha.api.validation.ManifestParser;
import io.pgha.local.LocalLayout;
import io.pgha.local.LocalSecrets;
import io.pgha.local.OsUser;
import io.pgha.local.PgBinaries;
import io.pgha.local.PgCtl;
import io.pgha.local.ServerProcesses;
import io.pgha.local.Ports;
import io.pgha.local.Sql;
import io.pgha.local.store.FileResourceStore;
import io.pgha.provisioner.model.Divergence;
import io.pgha.provisioner.model.InstanceFacts;
import org.awaitility.core.ConditionFactory;
import org.jboss.logging.Logger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A real failover that leaves one standby ahead of the new primary's fork point and one behind
 * it, run by {@link LocalProvisioner} on four local PostgreSQL 15 instances. The test plays the
 * monitor: it fences and stops the primary, promotes pg-2, records the new topology and re-points
 * the standbys over SQL the way the monitor's StandbyWiring does.
 *
 * <ul>
 *   <li>pg-2 (A) is detached before the last writes, then promoted: timeline 2 forks there;</li>
 *   <li>pg-3 (B) receives those writes: it is ahead of the fork and must be rewound;</li>
 *   <li>pg-4 (C) is detached even earlier: it is behind the fork. Its re-point is held back until
 *       pg-3's rewind is done, so that it sits on timeline 1 without streaming for longer than the
 *       grace period (what the rule must tolerate); then it follows timeline 2 by itself.</li>
 * </ul>
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class DivergedStandbyTest {
    private static final Logger LOG = Logger.getLogger(DivergedStandbyTest.class);
    private static final String CLUSTER = "pg";
    private static final String OLD_PRIMARY = "pg-1";
    private static final String PROMOTED = "pg-2";
    private static final String AHEAD = "pg-3";
    private static final String BEHIND = "pg-4";
    private static final Duration GRACE = Duration.ofSeconds(5);
    /** Generous: other engineers' PostgreSQL tests share the machine's two cores. */
    private static final Duration LONG = Duration.ofMinutes(4);

    private Path home;
    private LocalLayout layout;
    private FileResourceStore store;
    private LocalProvisioner provisioner;
    private ScheduledExecutorService loop;
    private LocalSecrets.Credentials superuser;
    private long behindPid;

    @BeforeAll
    void failOverLeavingOneStandbyAheadAndOneBehind() throws Exception {
        home = Files.createTempDirectory(Path.of("/tmp"), "pgha-diverged",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
        layout = new LocalLayout(home, Ports.freeRange(LocalLayout.PORT_SPAN));
        store = new FileResourceStore(layout.store());
        PgCtl pgCtl = new PgCtl(PgBinaries.locate(), OsUser.forPostgres(), layout.commandLog());
        provisioner = new LocalProvisioner(layout, store, pgCtl, Duration.ofSeconds(1), GRACE, Clock.systemUTC());
        PostgresCluster cluster = ManifestParser.parseCluster("""
                apiVersion: pgha.io/v1
                kind: PostgresCluster
                metadata:
                  name: pg
                spec:
                  instances: 4
                """);
        cluster.getMetadata().setNamespace(LocalLayout.NAMESPACE);
        store.apply(cluster);
        loop = Executors.newSingleThreadScheduledExecutor(r -> new Thread(r, "test-provisioner"));
        loop.scheduleWithFixedDelay(this::pass, 0, 200, TimeUnit.MILLISECONDS);
        eventually().until(() -> ClusterPhase.READY.equals(cluster().getStatus().phase));
        superuser = new LocalSecrets(layout).getOrCreate(ClusterNames.superuserSecret(CLUSTER), ClusterNames.SUPERUSER, "postgres");

        exec(OLD_PRIMARY, "CREATE TABLE t (note text PRIMARY KEY)");
        exec(OLD_PRIMARY, "INSERT INTO t VALUES ('everywhere')");
        awaitReplayed(List.of(PROMOTED, AHEAD, BEHIND));
        detach(BEHIND);
        exec(OLD_PRIMARY, "INSERT INTO t VALUES ('before the fork')");
        awaitReplayed(List.of(PROMOTED, AHEAD));
        detach(PROMOTED);
        exec(OLD_PRIMARY, "INSERT INTO t VALUES ('lost with timeline 1')");
        awaitReplayed(List.of(AHEAD));
        behindPid = ServerProcesses.postmaster(layout.dataDir(BEHIND)).orElseThrow();

        // as the monitor fails over: fence first, so that nothing starts the old primary again, then stop it
        store.updateStatus(PostgresCluster.class, LocalLayout.NAMESPACE, CLUSTER, c -> {
            c.getStatus().topology.fenced.add(OLD_PRIMARY);
            c.getStatus().topology.targetPrimary = PROMOTED;
            return c;
        });
        pgCtl.stop(layout.dataDir(OLD_PRIMARY), PgCtl.StopMode.FAST);
        exec(PROMOTED, "SELECT pg_promote(true)");
        // the monitor checkpoints before it records the promotion, so that pg_control names timeline 2
        exec(PROMOTED, "CHECKPOINT");
        int timeline = Integer.parseInt(value(PROMOTED,
                "SELECT ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int"));
        assertEquals(2, timeline);
        store.updateStatus(PostgresCluster.class, LocalLayout.NAMESPACE, CLUSTER, c -> {
            TopologyStatus t = c.getStatus().topology;
            t.currentPrimary = PROMOTED;
            t.targetPrimary = null;
            t.timeline = timeline;
            TopologyStatus.Promotion p = new TopologyStatus.Promotion();
            p.kind = "failover";
            p.from = OLD_PRIMARY;
            p.to = PROMOTED;
            p.timeline = timeline;
            t.history.add(p);
            return c;
        });
        // StandbyWiring.repoint: a slot on the new primary for every other instance, then primary_conninfo + reload
        for (String n : List.of(OLD_PRIMARY, AHEAD, BEHIND)) {
            String slot = ClusterNames.replicationSlot(n);
            // the provisioner's passes may create the same slot meanwhile: a look first would race them
            exec(PROMOTED, "DO $$BEGIN PERFORM pg_create_physical_replication_slot(" + Sql.literal(slot) + ", true);"
                    + " EXCEPTION WHEN duplicate_object THEN NULL; END$$");
        }
        repoint(AHEAD);
        exec(PROMOTED, "INSERT INTO t VALUES ('timeline 2')");
    }

    @Test
    @Order(1)
    void aStandbyAheadOfTheForkIsRewoundAndFollowsTheNewPrimary() throws Exception {
        eventually().until(() -> ProvisioningStatus.Instance.REJOINED_BY_REWIND.equals(instance(AHEAD).rejoinedBy));
        // the situation was the real one: PostgreSQL itself refused to follow the new timeline
        assertTrue(serverLog(AHEAD).contains("new timeline 2 forked off current database system timeline 1 before current recovery point"),
                "pg-3's server log shows the refusal");
        assertEquals(2, instance(AHEAD).rejoinedTimeline);
        awaitStreamingOnTimeline2(AHEAD);
        eventually().until(() -> count(AHEAD, "note = 'timeline 2'") == 1);
        assertEquals(0, count(AHEAD, "note = 'lost with timeline 1'"), "timeline 1 beyond the fork point is rewound away");
        assertEquals(1, count(AHEAD, "note = 'before the fork'"));
        // the former primary rejoined through the same routine
        assertEquals(ProvisioningStatus.Instance.REJOINED_BY_REWIND, instance(OLD_PRIMARY).rejoinedBy);
        exec(PROMOTED, "INSERT INTO t VALUES ('after the rewind')");
        eventually().until(() -> count(AHEAD, "note = 'after the rewind'") == 1);
    }

    @Test
    @Order(2)
    void aStandbyBehindTheForkFollowsWithoutARestart() throws Exception {
        // pg-3's rewind came a grace period after it was first seen ahead; pg-4 was not streaming, on
        // timeline 1, all that time: suspect, but behind the fork, so it was left alone
        eventually().until(() -> instance(AHEAD).rejoinedBy != null);
        InstanceFacts primary;
        InstanceFacts behind;
        try (KeptConnections connections = new KeptConnections()) {
            primary = InstanceProbe.look(PROMOTED, layout.dataDir(PROMOTED), port(PROMOTED), superuser, connections);
            behind = InstanceProbe.look(BEHIND, layout.dataDir(BEHIND), port(BEHIND), superuser, connections);
        }
        assertEquals(1, behind.wal().timeline());
        assertTrue(Divergence.suspect(primary, behind));
        assertFalse(Divergence.aheadOfFork(primary, behind, InstanceProbe.history(port(PROMOTED), superuser, 2)));
        assertEquals(behindPid, ServerProcesses.postmaster(layout.dataDir(BEHIND)).orElseThrow(), "the standby was not restarted");

        repoint(BEHIND);
        awaitStreamingOnTimeline2(BEHIND);
        eventually().until(() -> count(BEHIND, "note = 'timeline 2'") == 1);
        // it was behind: what it missed of timeline 1 came from the new primary, which had it
        assertEquals(1, count(BEHIND, "note = 'before the fork'"));
        assertEquals(0, count(BEHIND, "note = 'lost with timeline 1'"));
        assertTrue(serverLog(BEHIND).contains("new target timeline is 2"), "pg-4 switched timelines by itself");
        assertEquals(behindPid, ServerProcesses.postmaster(layout.dataDir(BEHIND)).orElseThrow(), "the standby was not restarted");
        assertNull(instance(BEHIND).rejoinedBy);
    }

    @AfterAll
    void tearDown() throws Exception {
        if (loop != null) {
            // no interrupt: a pass holding the store's file lock finishes; no new pass starts after shutdown
            loop.shutdown();
            loop.awaitTermination(2, TimeUnit.MINUTES);
        }
        if (provisioner != null) {
            provisioner.stopAll();
        }
        if (home != null) {
            try (Stream<Path> files = Files.walk(home)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    private void pass() {
        try {
            while (provisioner.reconcile()) {
                // acted: go again at once, as LocalRuntime does
            }
        } catch (RuntimeException e) {
            LOG.warn("reconcile pass failed", e);
        }
    }

    /** Instances restart during the test: a failed query is one more reason to look again, until LONG. */
    private static ConditionFactory eventually() {
        return await().atMost(LONG).ignoreExceptions();
    }

    private PostgresCluster cluster() {
        return store.get(PostgresCluster.class, LocalLayout.NAMESPACE, CLUSTER).orElseThrow();
    }

    private ProvisioningStatus.Instance instance(String name) {
        return cluster().getStatus().provisioning.instance(name).orElseThrow();
    }

    private int port(String instance) {
        return layout.instancePort(ClusterNames.serialOf(CLUSTER, instance).orElseThrow());
    }

    /** What StandbyWiring does: the standby's own connection string aimed at the new primary, and a reload. */
    private void repoint(String standby) throws SQLException {
        exec(standby, "ALTER SYSTEM SET primary_conninfo = " + Sql.literal(layout.replicationConninfo(standby, port(PROMOTED))));
        exec(standby, "SELECT pg_reload_conf()");
    }

    private void detach(String standby) throws SQLException {
        exec(standby, "ALTER SYSTEM SET primary_conninfo = ''");
        exec(standby, "SELECT pg_reload_conf()");
        eventually().until(() -> "0".equals(value(standby, "SELECT count(*) FROM pg_stat_wal_receiver")));
    }

    /** Waits until every one of {@code standbys} has replayed everything the old primary wrote so far. */
    private void awaitReplayed(List<String> standbys) throws SQLException {
        String lsn = value(OLD_PRIMARY, "SELECT pg_current_wal_lsn()");
        for (String s : standbys) {
            eventually().until(() -> "t".equals(value(s, "SELECT pg_last_wal_replay_lsn() >= " + Sql.literal(lsn) + "::pg_lsn")));
        }
    }

    private void awaitStreamingOnTimeline2(String standby) {
        eventually().until(() -> "streaming 2".equals(
                value(standby, "SELECT status || ' ' || received_tli FROM pg_stat_wal_receiver")));
        eventually().until(() -> "streaming".equals(
                value(PROMOTED, "SELECT state FROM pg_stat_replication WHERE application_name = " + Sql.literal(standby))));
    }

    private String serverLog(String instance) throws IOException {
        return Files.readString(layout.serverLog(instance));
    }

    private long count(String instance, String where) throws SQLException {
        return Long.parseLong(value(instance, "SELECT count(*) FROM t WHERE " + where));
    }

    private void exec(String instance, String sql) throws SQLException {
        try (Connection c = Sql.connect(port(instance), superuser, "postgres"); Statement s = c.createStatement()) {
            s.execute(sql);
        }
    }

    private String value(String instance, String sql) throws SQLException {
        try (Connection c = Sql.connect(port(instance), superuser, "postgres")) {
            return Sql.value(c, sql);
        }
    }
}
