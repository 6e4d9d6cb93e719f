package io.pgha.monitor.service;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.pgha.api.MetricLabels;
import io.pgha.api.postgres.Lsn;
import io.pgha.api.v1.ConditionTypes;
import io.pgha.api.v1.Conditions;
import io.pgha.api.v1.cluster.TopologyStatus;
import io.pgha.local.OsUser;
import io.pgha.local.PgBinaries;
import io.pgha.local.ServerProcesses;
import io.pgha.monitor.local.LocalFencer;
import io.pgha.monitor.local.LocalPlatform;
import io.pgha.monitor.testing.LocalCluster;
import io.pgha.monitor.testing.Writer;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Failover for real: three PostgreSQL 15 instances with synchronous quorum (ANY 1), a writer that
 * records every acknowledged id, the primary's postmaster killed with SIGKILL, and the monitor
 * (with its real reactive client, lease and fencer) promoting and re-pointing.
 */
class LocalFailoverTest {
    private static Vertx vertx;

    @BeforeAll
    static void vertx() {
        vertx = Vertx.vertx();
    }

    @AfterAll
    static void closeVertx() {
        vertx.close().toCompletionStage().toCompletableFuture().join();
    }

    static MonitorRunner runner(LocalCluster cluster, String identity, SimpleMeterRegistry registry) {
        return runner(cluster, identity, registry, vertx);
    }

    /** A monitor with the real local platform and fencer, on {@code vertx}. */
    static MonitorRunner runner(LocalCluster cluster, String identity, SimpleMeterRegistry registry, Vertx vertx) {
        ClusterMonitor.Config config = new ClusterMonitor.Config(Duration.ofSeconds(3), Duration.ofSeconds(5),
                Duration.ofSeconds(30), Duration.ofSeconds(60), Duration.ofSeconds(5), Duration.ofSeconds(10));
        return new MonitorRunner(new LocalPlatform(cluster.layout(), new LocalFencer(cluster.layout(), PgBinaries.locate(),
                OsUser.forPostgres()), Clock.systemUTC()), vertx, registry, identity, config, Clock.systemUTC()).start();
    }

    static void awaitHealthy(LocalCluster cluster, String primary) {
        await().atMost(30, TimeUnit.SECONDS).untilAsserted(() -> {
            TopologyStatus t = cluster.topology();
            assertEquals(primary, t.currentPrimary);
            assertEquals(cluster.names().size(), t.instances.size());
            for (TopologyStatus.Instance i : t.instances) {
                assertTrue(Boolean.TRUE.equals(i.healthy), i.name + " healthy");
            }
        });
    }

    @Test
    void sigkilledPrimaryIsReplacedWithoutLosingAnAcknowledgedCommit() throws Exception {
        try (LocalCluster cluster = LocalCluster.start(3, true, 3, 500)) {
            SimpleMeterRegistry registry = new SimpleMeterRegistry();
            SimpleMeterRegistry standbyRegistry = new SimpleMeterRegistry();
            try (MonitorRunner monitor = runner(cluster, "monitor-a", registry)) {
                awaitHealthy(cluster, "pg-1");
                // a second monitor on the same state directory: it watches but never acts
                MonitorRunner second = runner(cluster, "monitor-b", standbyRegistry);
                TopologyStatus before = cluster.topology();
                assertEquals("primary", before.instance("pg-1").orElseThrow().role);
                assertEquals("standby", before.instance("pg-2").orElseThrow().role);
                assertEquals("quorum", before.instance("pg-2").orElseThrow().syncState);
                assertEquals(1.0, registry.get("pgha.instance.up").tag(MetricLabels.INSTANCE, "pg-1").gauge().value());
                assertEquals(1.0, registry.get("pgha.instance.primary").tag(MetricLabels.INSTANCE, "pg-1").gauge().value());
                assertEquals(1.0, registry.get("pgha.monitor.leader").gauge().value());

                Writer writer = Writer.start(cluster, "pg-1");
                try {
                    await().atMost(20, TimeUnit.SECONDS).until(() -> writer.acknowledged().size() >= 200);
                    long killedAt = System.nanoTime();
                    ProcessHandle.of(cluster.postmasterPid("pg-1").orElseThrow()).orElseThrow().destroyForcibly();

                    await().atMost(30, TimeUnit.SECONDS).untilAsserted(() -> {
                        TopologyStatus t = cluster.topology();
                        assertNotEquals("pg-1", t.currentPrimary);
                        assertEquals(1, t.history.size());
                        assertFalse(Conditions.isTrue(cluster.cluster().getStatus().conditions, ConditionTypes.FAILING_OVER));
                    });
                    long failoverMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - killedAt);
                    writer.stop();
                    TopologyStatus after = cluster.topology();
                    String promoted = after.currentPrimary;
                    String other = promoted.equals("pg-2") ? "pg-3" : "pg-2";
                    System.out.printf("failover: pg-1 killed, %s promoted on timeline %d, %d ms after the kill, "
                            + "%d acknowledged ids%n", promoted, after.timeline, failoverMillis, writer.acknowledged().size());
                    assertEquals(2, after.timeline);
                    assertEquals(List.of("pg-1"), after.fenced);
                    TopologyStatus.Promotion h = after.history.get(0);
                    assertEquals("failover", h.kind);
                    assertEquals("pg-1", h.from);
                    assertEquals(promoted, h.to);

                    // zero loss: every id the old primary acknowledged is on the new one
                    assertEquals(Set.of(), writer.missingOn(promoted));
                    assertEquals("f", cluster.query(promoted, "SELECT pg_is_in_recovery()"));
                    assertEquals("2", cluster.query(promoted,
                            "SELECT ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int"));
                    // checkpointed after promotion: pg_control names the new timeline, as pg_rewind needs
                    assertEquals("2", cluster.query(promoted, "SELECT timeline_id FROM pg_control_checkpoint()"));

                    // the other standby streams from the new primary, through its slot there
                    await().atMost(20, TimeUnit.SECONDS).untilAsserted(() -> {
                        assertEquals("streaming", cluster.query(other, "SELECT status FROM pg_stat_wal_receiver"));
                        assertEquals(Integer.toString(cluster.port(promoted)),
                                cluster.query(other, "SELECT sender_port FROM pg_stat_wal_receiver"));
                    });
                    try (var c = cluster.connect(promoted); var s = c.createStatement()) {
                        s.execute("INSERT INTO acked VALUES (-1)");
                    }
                    await().atMost(10, TimeUnit.SECONDS).untilAsserted(() ->
                            assertEquals("1", cluster.query(other, "SELECT count(*) FROM acked WHERE id = -1")));
                    assertThrowsSql(() -> cluster.query("pg-1", "SELECT 1")); // the old primary stays down
                    assertEquals(1.0, registry.get("pgha.failovers").tag("kind", "failover").tag("outcome", "done")
                            .counter().count());
                    assertEquals(1, registry.get("pgha.failover.duration").tag("kind", "failover").timer().count());
                    await().atMost(10, TimeUnit.SECONDS).untilAsserted(() -> {
                        assertEquals(0.0, registry.get("pgha.instance.up").tag(MetricLabels.INSTANCE, "pg-1").gauge().value());
                        assertEquals(2.0, registry.get("pgha.timeline").gauge().value());
                    });
                    assertEquals(0.0, standbyRegistry.get("pgha.monitor.leader").gauge().value());
                    assertTrue(standbyRegistry.find("pgha.failovers").counters().stream().allMatch(c -> c.count() == 0),
                            "the second monitor never acted");
                    assertEquals(1, cluster.topology().history.size(), "one failover, not two");
                } finally {
                    writer.close();
                    second.close();
                }
            }
        }
    }

    @Test
    void switchoverLosesNothingAndTheFormerPrimaryCanStreamFromTheNewOne() throws Exception {
        try (LocalCluster cluster = LocalCluster.start(3, true, 3, 500);
             MonitorRunner monitor = runner(cluster, "monitor-a", new SimpleMeterRegistry())) {
            awaitHealthy(cluster, "pg-1");
            // the target replays an hour late (a delayed standby, set by hand): what it received is
            // all a switchover needs, since promotion ends the delay (the wait for its replay
            // timed out and aborted the switchover before)
            try (Connection c = cluster.connect("pg-3"); Statement s = c.createStatement()) {
                s.execute("ALTER SYSTEM SET recovery_min_apply_delay = '1h'");
                s.execute("SELECT pg_reload_conf()");
            }
            await().atMost(10, TimeUnit.SECONDS).until(() -> "1h".equals(cluster.query("pg-3", "SHOW recovery_min_apply_delay")));
            ClusterMonitor.SwitchoverResult result;
            try (Writer writer = Writer.start(cluster, "pg-1")) {
                await().atMost(20, TimeUnit.SECONDS).until(() -> writer.acknowledged().size() >= 200);
                assertTrue(Lsn.parse(cluster.query("pg-3", "SELECT pg_last_wal_replay_lsn()"))
                        .compareTo(Lsn.parse(cluster.query("pg-3", "SELECT pg_last_wal_receive_lsn()"))) < 0, "pg-3's replay trails");
                long started = System.nanoTime();
                result = monitor.monitor().orElseThrow().requestSwitchover("pg-3").get(60, TimeUnit.SECONDS);
                System.out.printf("switchover pg-1 -> pg-3: %s in %d ms, %d acknowledged ids%n", result.message(),
                        TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started), writer.acknowledged().size());
                writer.stop();
                assertTrue(result.done(), result.message());
                assertEquals(Set.of(), writer.missingOn("pg-3"));
            }
            TopologyStatus t = cluster.topology();
            assertEquals("pg-3", t.currentPrimary);
            assertEquals(2, t.timeline);
            assertEquals("switchover", t.history.get(0).kind);
            assertEquals(List.of("pg-1"), t.fenced);
            assertEquals("shut down", cluster.pgCtl().clusterState(cluster.layout().dataDir("pg-1")),
                    "the old primary was stopped cleanly");
            await().atMost(20, TimeUnit.SECONDS).untilAsserted(() -> assertEquals(Integer.toString(cluster.port("pg-3")),
                    cluster.query("pg-2", "SELECT sender_port FROM pg_stat_wal_receiver WHERE status = 'streaming'")));

            // the clean stop left pg-1 configured as a standby of pg-3: whoever starts it again (here the
            // test, as a provisioner would) gets a standby that follows the new timeline, no rewind needed
            assertTrue(java.nio.file.Files.exists(cluster.layout().dataDir("pg-1").resolve("standby.signal")));
            cluster.startInstance(1);
            assertEquals("t", cluster.query("pg-1", "SELECT pg_is_in_recovery()"));
            await().atMost(30, TimeUnit.SECONDS).untilAsserted(() -> {
                assertEquals("streaming", cluster.query("pg-1", "SELECT status FROM pg_stat_wal_receiver"));
                assertEquals("2", cluster.query("pg-1", "SELECT received_tli FROM pg_stat_wal_receiver"));
                TopologyStatus now = cluster.topology();
                assertEquals(List.of(), now.fenced, "rejoined: no longer fenced");
                assertEquals("standby", now.instance("pg-1").orElseThrow().role);
                assertTrue(now.instance("pg-1").orElseThrow().healthy);
            });
            // and a target that is no standby is refused without touching anything
            ClusterMonitor.SwitchoverResult refused = monitor.monitor().orElseThrow().requestSwitchover("pg-3")
                    .get(30, TimeUnit.SECONDS);
            assertFalse(refused.done());
            assertTrue(refused.message().contains("primary already"), refused.message());
            assertEquals(1, cluster.topology().history.size());

            // the declarative way back: the switchover annotation names the rejoined pg-1
            var annotated = cluster.cluster();
            annotated.getMetadata().setAnnotations(java.util.Map.of(io.pgha.api.Labels.SWITCHOVER_ANNOTATION, "pg-1"));
            annotated.getMetadata().setResourceVersion(null);
            cluster.store().apply(annotated);
            await().atMost(30, TimeUnit.SECONDS).untilAsserted(() -> {
                TopologyStatus back = cluster.topology();
                assertEquals("pg-1", back.currentPrimary);
                assertEquals(3, back.timeline);
                assertEquals(2, back.history.size());
                assertTrue(back.history.get(1).reason.contains("annotation"), back.history.get(1).reason);
                assertFalse(Conditions.isTrue(cluster.cluster().getStatus().conditions, ConditionTypes.FAILING_OVER));
                assertEquals(Integer.toString(cluster.port("pg-1")),
                        cluster.query("pg-2", "SELECT sender_port FROM pg_stat_wal_receiver WHERE status = 'streaming'"));
            });
            assertEquals("f", cluster.query("pg-1", "SELECT pg_is_in_recovery()"));
            assertEquals("3", cluster.query("pg-1", "SELECT timeline_id FROM pg_control_checkpoint()"));
        }
    }

    @Test
    void hungPrimaryIsFencedAndReplacedAndNeverAcknowledgesAgain() throws Exception {
        try (LocalCluster cluster = LocalCluster.start(3, true, 3, 500);
             MonitorRunner monitor = runner(cluster, "monitor-a", new SimpleMeterRegistry())) {
            awaitHealthy(cluster, "pg-1");
            Writer writer = Writer.start(cluster, "pg-1");
            List<ProcessHandle> processes;
            try {
                await().atMost(20, TimeUnit.SECONDS).until(() -> writer.acknowledged().size() >= 200);
                ProcessHandle postmaster = ProcessHandle.of(cluster.postmasterPid("pg-1").orElseThrow()).orElseThrow();
                processes = new java.util.ArrayList<>(postmaster.descendants().toList());
                processes.add(0, postmaster);
                signal("STOP", processes);
                int ackedWhenStopped = writer.acknowledged().size();
                await().atMost(30, TimeUnit.SECONDS).untilAsserted(() -> {
                    assertNotEquals("pg-1", cluster.topology().currentPrimary);
                    assertEquals(1, cluster.topology().history.size());
                });
                // resuming what is left of the old primary changes nothing: it was killed, not paused
                signal("CONT", processes);
                await().atMost(10, TimeUnit.SECONDS).until(() -> processes.stream().allMatch(ServerProcesses::gone));
                assertTrue(writer.acknowledged().size() <= ackedWhenStopped + 1,
                        "at most the commit in flight when the postmaster froze may be acknowledged afterwards");
            } finally {
                writer.stop();
            }
            String promoted = cluster.topology().currentPrimary;
            assertEquals(Set.of(), writer.missingOn(promoted));
            assertEquals(List.of("pg-1"), cluster.topology().fenced);
            assertThrowsSql(() -> cluster.query("pg-1", "SELECT 1"));
        }
    }

    private static void signal(String signal, List<ProcessHandle> processes) throws Exception {
        List<String> command = new java.util.ArrayList<>(List.of("kill", "-" + signal));
        processes.forEach(p -> command.add(Long.toString(p.pid())));
        new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start()
                .waitFor(10, TimeUnit.SECONDS);
    }

    private static void assertThrowsSql(org.junit.jupiter.api.function.Executable e) {
        org.junit.jupiter.api.Assertions.assertThrows(java.sql.SQLException.class, e);
    }

    @Test
    void guardRailsHoldForRealWhileFailoverIsDisabledAndWhenNothingAnswers() throws Exception {
        try (LocalCluster cluster = LocalCluster.start(2, false, 2, 300)) {
            var spec = cluster.cluster();
            spec.getSpec().failover.enabled = false;
            spec.getMetadata().setResourceVersion(null);
            cluster.store().apply(spec);
            try (MonitorRunner monitor = runner(cluster, "monitor-a", new SimpleMeterRegistry())) {
                awaitHealthy(cluster, "pg-1");
                ProcessHandle.of(cluster.postmasterPid("pg-1").orElseThrow()).orElseThrow().destroyForcibly();
                // many times the threshold: nothing happens while failover is disabled
                await().during(3, TimeUnit.SECONDS).atMost(5, TimeUnit.SECONDS).untilAsserted(() -> {
                    assertEquals("pg-1", cluster.topology().currentPrimary);
                    assertEquals("t", cluster.query("pg-2", "SELECT pg_is_in_recovery()"));
                });
                assertEquals(List.of(), cluster.topology().history);
                assertTrue(monitor.monitor().orElseThrow().lastDecision().contains("disabled"));

                // enabled again, the same failed primary is replaced
                spec = cluster.cluster();
                spec.getSpec().failover.enabled = true;
                spec.getMetadata().setResourceVersion(null);
                cluster.store().apply(spec);
                await().atMost(20, TimeUnit.SECONDS).untilAsserted(() -> assertEquals("pg-2", cluster.topology().currentPrimary));

                // now nothing answers at all: the monitor holds instead of acting on a view it cannot trust
                cluster.pgCtl().stop(cluster.layout().dataDir("pg-2"), io.pgha.local.PgCtl.StopMode.IMMEDIATE);
                await().atMost(10, TimeUnit.SECONDS).untilAsserted(() -> {
                    var degraded = Conditions.find(cluster.cluster().getStatus().conditions, ConditionTypes.DEGRADED).orElseThrow();
                    assertEquals("FailoverHeld", degraded.reason);
                    assertTrue(degraded.message.contains("no instance answers"), degraded.message);
                });
                await().during(2, TimeUnit.SECONDS).atMost(4, TimeUnit.SECONDS).untilAsserted(() -> {
                    assertEquals("pg-2", cluster.topology().currentPrimary);
                    assertEquals(1, cluster.topology().history.size());
                });
            }
        }
    }

    @Test
    void aPromotionThatWasNeverRecordedIsAdoptedNotDoubled() throws Exception {
        try (LocalCluster cluster = LocalCluster.start(2, false, 2, 300)) {
            // what a monitor that died between pg_promote and its status write leaves behind
            ProcessHandle.of(cluster.postmasterPid("pg-1").orElseThrow()).orElseThrow().destroyForcibly();
            assertEquals("t", cluster.query("pg-2", "SELECT pg_promote(true, 60)"));
            try (MonitorRunner monitor = runner(cluster, "monitor-b", new SimpleMeterRegistry())) {
                await().atMost(20, TimeUnit.SECONDS).untilAsserted(() -> {
                    TopologyStatus t = cluster.topology();
                    assertEquals("pg-2", t.currentPrimary);
                    assertEquals(2, t.timeline);
                    assertEquals(List.of("pg-1"), t.fenced);
                    assertEquals(1, t.history.size());
                    assertTrue(t.history.get(0).reason.contains("not recorded"), t.history.get(0).reason);
                });
            }
        }
    }
}
