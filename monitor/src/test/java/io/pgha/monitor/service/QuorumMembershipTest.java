package io.pgha.monitor.service;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.pgha.api.v1.Condition;
import io.pgha.api.v1.ConditionTypes;
import io.pgha.api.v1.Conditions;
import io.pgha.api.v1.cluster.PostgresCluster;
import io.pgha.local.LocalLayout;
import io.pgha.monitor.core.InstanceObservation;
import io.pgha.monitor.testing.LocalCluster;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.Test;

import java.util.concurrent.TimeUnit;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The standbys a quorum failover counts are the ones the primary's live synchronous_standby_names
 * lets acknowledge, on real PostgreSQL 15: pg-3 streams and is listed (ANY 1 of pg-1..pg-3) but
 * the provisioner has not recorded it, so the monitor cannot reach it. When pg-1 dies, the last
 * commits may be on pg-3 alone: the monitor must not promote pg-2.
 */
class QuorumMembershipTest {
    @Test
    void aStreamingStandbyThatIsListedButNotRecordedHoldsTheFailoverBack() throws Exception {
        try (LocalCluster cluster = LocalCluster.start(3, true, 2, 300)) {
            cluster.store().updateStatus(PostgresCluster.class, LocalLayout.NAMESPACE, LocalCluster.NAME, c -> {
                c.getStatus().provisioning.instances.removeIf(i -> i.name.equals("pg-3"));
                return c;
            });
            await().atMost(30, TimeUnit.SECONDS).until(() -> "streaming".equals(cluster.query("pg-1",
                    "SELECT state FROM pg_stat_replication WHERE application_name = 'pg-3'")));
            Vertx vertx = Vertx.vertx();
            try (MonitorRunner runner = LocalFailoverTest.runner(cluster, "monitor-a", new SimpleMeterRegistry(), vertx)) {
                // the monitor saw pg-1 with pg-3 streaming from it and the quorum it runs under
                await().atMost(30, TimeUnit.SECONDS).until(() -> runner.monitor().map(m -> m.latest().get("pg-1"))
                        .filter(o -> o.isPrimary() && o.synchronousStandbyNames() != null
                                && o.replica("pg-3").map(InstanceObservation.Replica::state).filter("streaming"::equals).isPresent())
                        .isPresent());
                ProcessHandle.of(cluster.postmasterPid("pg-1").orElseThrow()).orElseThrow().destroyForcibly();

                await().atMost(30, TimeUnit.SECONDS).untilAsserted(() -> {
                    Condition c = Conditions.find(cluster.cluster().getStatus().conditions, ConditionTypes.FAILING_OVER).orElse(null);
                    assertNotNull(c, "no failover tried yet");
                    assertEquals("Aborted", c.reason);
                    assertTrue(c.message.contains("[pg-2, pg-3]"), c.message);
                });
                await().during(2, TimeUnit.SECONDS).atMost(5, TimeUnit.SECONDS).untilAsserted(() -> {
                    assertEquals("pg-1", cluster.topology().currentPrimary);
                    assertEquals("true", cluster.query("pg-2", "SELECT pg_is_in_recovery()::text"), "pg-2 was not promoted");
                });
            } finally {
                vertx.close().toCompletionStage().toCompletableFuture().join();
            }
        }
    }
}
