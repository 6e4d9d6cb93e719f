package io.pgha.provisioner.kubernetes;

import io.pgha.api.v1.ClusterPhase;
import io.pgha.api.v1.Condition;
import io.pgha.api.v1.ConditionTypes;
import io.pgha.api.v1.Conditions;
import io.pgha.api.v1.cluster.PostgresCluster;
import io.pgha.api.v1.cluster.PostgresClusterStatus;
import io.pgha.api.v1.cluster.TopologyStatus;
import io.pgha.api.validation.ClusterValidator;
import io.pgha.api.validation.InvalidManifestException;
import io.pgha.api.validation.Violation;
import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ClusterStatusViewTest {
    private final PostgresCluster cluster = Clusters.example("db");
    private final Clock t0 = Clock.fixed(Instant.parse("2026-01-01T00:00:00Z"), ZoneOffset.UTC);
    private final Clock t1 = Clock.fixed(Instant.parse("2026-01-01T01:00:00Z"), ZoneOffset.UTC);

    @Test
    void firstPrimaryIsRecordedOnlyOnceItIsReady() {
        InstanceLayout layout = InstanceLayout.of(cluster, Set.of());
        PostgresClusterStatus pending = ClusterStatusView.valid(cluster, layout, Map.of("pg-1", false), null, t0);
        assertEquals(ClusterPhase.SETTING_UP_PRIMARY, pending.phase);
        assertEquals("0/3", pending.provisioning.ready, "the Ready printer column");
        assertNull(pending.topology);
        assertEquals(List.of("pg-1", "pg-2", "pg-3"), pending.provisioning.instances.stream().map(i -> i.name).toList());
        assertEquals("initdb", pending.provisioning.instances.get(0).createdBy);
        assertEquals("pg_basebackup", pending.provisioning.instances.get(1).createdBy);

        PostgresClusterStatus primaryUp = ClusterStatusView.valid(cluster, layout, Map.of("pg-1", true, "pg-2", false, "pg-3", false), null, t0);
        assertEquals("pg-1", primaryUp.topology.currentPrimary);
        assertEquals(ClusterPhase.CREATING_STANDBY, primaryUp.phase);
        assertEquals("1/3", primaryUp.provisioning.ready);
        assertFalse(Conditions.isTrue(primaryUp.conditions, ConditionTypes.READY));
    }

    @Test
    void readyClusterNeverWritesTopologyAndAnUnchangedPassIsNoChange() {
        cluster.setStatus(new PostgresClusterStatus());
        cluster.getStatus().topology = new TopologyStatus();
        cluster.getStatus().topology.currentPrimary = "pg-2";
        // the monitor's condition survives the provisioner's writes
        cluster.getStatus().conditions = Conditions.with(List.of(), new Condition(ConditionTypes.DEGRADED, "False", "Healthy", "ok"), t0);
        InstanceLayout layout = InstanceLayout.of(cluster, Set.of(1, 2, 3));
        PostgresClusterStatus next = ClusterStatusView.valid(cluster, layout, Map.of("pg-1", true, "pg-2", true, "pg-3", true), null, t0);
        assertEquals(ClusterPhase.READY, next.phase);
        assertNull(next.topology);
        assertTrue(Conditions.isTrue(next.conditions, ConditionTypes.READY));
        assertTrue(Conditions.isTrue(next.conditions, ConditionTypes.SPEC_VALID));
        assertTrue(Conditions.find(next.conditions, ConditionTypes.DEGRADED).isPresent());
        String patch = ClusterStatusView.jsonPatch("7", cluster.getStatus(), next);
        assertFalse(patch.contains("topology"), patch);
        assertTrue(patch.startsWith("[{\"op\":\"test\",\"path\":\"/metadata/resourceVersion\",\"value\":\"7\"}"), patch);

        cluster.getStatus().phase = next.phase;
        cluster.getStatus().observedGeneration = next.observedGeneration;
        cluster.getStatus().conditions = next.conditions;
        cluster.getStatus().provisioning = next.provisioning;
        PostgresClusterStatus again = ClusterStatusView.valid(cluster, layout, Map.of("pg-1", true, "pg-2", true, "pg-3", true), null, t1);
        assertFalse(ClusterStatusView.differs(cluster.getStatus(), again), "an hour later nothing changed: no patch");
    }

    @Test
    void rebasingKeepsWhatOthersWroteMeanwhile() {
        InstanceLayout layout = InstanceLayout.of(cluster, Set.of());
        PostgresClusterStatus next = ClusterStatusView.valid(cluster, layout, Map.of("pg-1", true), null, t0);
        assertEquals("pg-1", next.topology.currentPrimary);
        // meanwhile the monitor recorded a topology and its Degraded condition
        PostgresClusterStatus now = new PostgresClusterStatus();
        now.topology = new TopologyStatus();
        now.topology.currentPrimary = "pg-1";
        now.conditions = List.of(new Condition(ConditionTypes.DEGRADED, "True", "Lagging", "pg-2 lags"));
        PostgresClusterStatus rebased = ClusterStatusView.onto(now, next);
        assertNull(rebased.topology, "the bootstrap write happens only while no topology exists");
        assertEquals(List.of(ConditionTypes.DEGRADED, ConditionTypes.READY, ConditionTypes.SPEC_VALID),
                rebased.conditions.stream().map(c -> c.type).toList());
        assertFalse(ClusterStatusView.jsonPatch("9", now, rebased).contains("topology"));
    }

    @Test
    void aPassOnAStaleCopyKeepsTheStoredTransitionTimes() {
        InstanceLayout layout = InstanceLayout.of(cluster, Set.of(1, 2, 3));
        Map<String, Boolean> allReady = Map.of("pg-1", true, "pg-2", true, "pg-3", true);
        // the previous pass found the cluster Ready at t0 and wrote that
        PostgresClusterStatus stored = ClusterStatusView.valid(cluster, layout, allReady, null, t0);
        // the next pass runs on the informer's copy from before that write (not Ready yet), an hour later
        cluster.setStatus(ClusterStatusView.valid(cluster, layout, Map.of("pg-1", true, "pg-2", true, "pg-3", false), null, t0));
        PostgresClusterStatus stale = ClusterStatusView.valid(cluster, layout, allReady, null, t1);
        assertEquals(t1.instant().toString(), Conditions.find(stale.conditions, ConditionTypes.READY).orElseThrow().lastTransitionTime);

        PostgresClusterStatus rebased = ClusterStatusView.onto(stored, stale);
        assertEquals(t0.instant().toString(), Conditions.find(rebased.conditions, ConditionTypes.READY).orElseThrow().lastTransitionTime,
                "Ready has been True since t0: the stale copy must not move that");
        assertFalse(ClusterStatusView.differs(stored, rebased), "nothing to write");
    }

    @Test
    void aTopologyTheMonitorWroteBeforeAnyPrimaryGetsOnlyThePrimaryAdded() {
        InstanceLayout layout = InstanceLayout.of(cluster, Set.of());
        PostgresClusterStatus next = ClusterStatusView.valid(cluster, layout, Map.of("pg-1", true), null, t0);
        // the monitor reported what it sees of the instances; nobody recorded a primary yet
        PostgresClusterStatus now = new PostgresClusterStatus();
        now.topology = new TopologyStatus();
        now.topology.instances.add(new TopologyStatus.Instance());
        assertTrue(ClusterStatusView.differs(now, next));
        PostgresClusterStatus rebased = ClusterStatusView.onto(now, next);
        assertEquals("pg-1", rebased.topology.currentPrimary);
        String patch = ClusterStatusView.jsonPatch("9", now, rebased);
        assertTrue(patch.contains("{\"op\":\"add\",\"path\":\"/status/topology/currentPrimary\",\"value\":\"pg-1\"}"), patch);
        assertFalse(patch.contains("\"path\":\"/status/topology\","), "the monitor's instances stay: " + patch);
    }

    @Test
    void invalidSpecNamesTheFieldAndKeepsEverythingElse() {
        cluster.setStatus(new PostgresClusterStatus());
        cluster.getStatus().phase = ClusterPhase.READY;
        cluster.getStatus().observedGeneration = 1L;
        PostgresClusterStatus next = ClusterStatusView.invalid(cluster,
                List.of(new Violation("spec.replication.number", "quorum of 3 needs 4 instances")), t0);
        assertEquals(ClusterPhase.READY, next.phase);
        assertEquals(1L, next.observedGeneration);
        Condition c = Conditions.find(next.conditions, ConditionTypes.SPEC_VALID).orElseThrow();
        assertEquals(Condition.FALSE, c.status);
        assertEquals("invalid manifest: spec.replication.number: quorum of 3 needs 4 instances", c.message);
    }

    @Test
    void aRefusedParameterReadsOnKubernetesExactlyAsPghaApplyPrintsIt() {
        cluster.getSpec().parameters.put("recovery_end_command", "/tmp/x");
        List<Violation> violations = ClusterValidator.validate(cluster);
        Condition c = Conditions.find(ClusterStatusView.invalid(cluster, violations, t0).conditions, ConditionTypes.SPEC_VALID)
                .orElseThrow();
        assertEquals(new InvalidManifestException(violations).getMessage(), c.message);
        assertEquals("invalid manifest: spec.parameters.recovery_end_command: loads code, runs a command or moves server files,"
                + " so pgha refuses it", c.message);
    }
}
