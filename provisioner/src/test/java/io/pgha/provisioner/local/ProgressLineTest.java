package io.pgha.provisioner.local;

import io.pgha.api.v1.ClusterPhase;
import io.pgha.api.v1.Condition;
import io.pgha.api.v1.ConditionTypes;
import io.pgha.api.v1.cluster.PostgresCluster;
import io.pgha.api.v1.cluster.PostgresClusterStatus;
import io.pgha.api.v1.cluster.ProvisioningStatus;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The line pgha up follows: only the applied generation's outcome ends its wait. */
class ProgressLineTest {

    private static PostgresCluster cluster(long generation, Long observed, String phase, String message, String ready) {
        PostgresCluster c = new PostgresCluster();
        ObjectMeta meta = new ObjectMeta();
        meta.setName("dst");
        meta.setGeneration(generation);
        c.setMetadata(meta);
        if (phase != null) {
            PostgresClusterStatus s = new PostgresClusterStatus();
            s.phase = phase;
            s.observedGeneration = observed;
            s.provisioning = new ProvisioningStatus();
            s.provisioning.message = message;
            s.conditions = List.of(new Condition(ConditionTypes.READY, ready, "r", message));
            c.setStatus(s);
        }
        return c;
    }

    @Test
    void aFailureOfTheAppliedGenerationIsReported() {
        assertEquals("Failed\tfalse\ttarget out of reach\n",
                LocalControlResource.progressLine(cluster(1, 1L, ClusterPhase.FAILED, "target out of reach", Condition.FALSE), null));
    }

    @Test
    void aFailureOfAnEarlierGenerationIsNotTheNewManifestsFailure() {
        // the corrected manifest is generation 2; the provisioner has not taken it up yet
        assertEquals("Pending\tfalse\tthe provisioner has not yet taken up generation 2 of the spec\n",
                LocalControlResource.progressLine(cluster(2, 1L, ClusterPhase.FAILED, "target out of reach", Condition.FALSE), null));
    }

    @Test
    void bootstrapProgressShowsBeforeTheFirstPassEnds() {
        // progress messages come before the pass that records the observed generation
        assertEquals("SettingUpPrimary\tfalse\tcreating primary dst-1 with initdb\n", LocalControlResource.progressLine(
                cluster(1, null, "SettingUpPrimary", "creating primary dst-1 with initdb", Condition.FALSE), null));
    }

    @Test
    void readyCountsOnlyForTheAppliedGeneration() {
        assertEquals("Ready\ttrue\tall ready\n",
                LocalControlResource.progressLine(cluster(3, 3L, ClusterPhase.READY, "all ready", Condition.TRUE), null));
        assertEquals("Ready\tfalse\tall ready\n",
                LocalControlResource.progressLine(cluster(4, 3L, ClusterPhase.READY, "all ready", Condition.TRUE), null));
    }

    @Test
    void noStatusYetIsPending() {
        assertEquals("Pending\tfalse\twaiting to start\n", LocalControlResource.progressLine(cluster(1, null, null, null, null), null));
        assertEquals("Pending\tfalse\terror: state file unreadable\n",
                LocalControlResource.progressLine(cluster(1, null, null, null, null), "state file unreadable"));
    }

    @Test
    void aLineUnlikeTheOneShownIsAnsweredOnceItComes() throws InterruptedException {
        java.util.Iterator<String> lines = List.of("Restoring\tfalse\tfetching\n", "Restoring\tfalse\tfetching\n",
                "Restoring\tfalse\treplaying\n").iterator();
        int[] looks = {0};
        java.util.function.Supplier<String> current = () -> {
            looks[0]++;
            return lines.next();
        };
        // the caller shows the line without its newline, as a shell's command substitution leaves it
        assertEquals("Restoring\tfalse\treplaying\n", LocalControlResource.lineUnlike(current, "Restoring\tfalse\tfetching",
                java.time.Duration.ofMinutes(1), java.time.Duration.ofMillis(1)));
        assertEquals(3, looks[0]);
    }

    @Test
    void anUnchangedLineIsAnsweredAfterTheWaitAndNoneOrANewCallerAtOnce() throws InterruptedException {
        java.util.function.Supplier<String> same = () -> "Ready\ttrue\tall ready\n";
        assertEquals("Ready\ttrue\tall ready\n", LocalControlResource.lineUnlike(same, "Ready\ttrue\tall ready",
                java.time.Duration.ofMillis(50), java.time.Duration.ofMillis(10)));
        assertEquals("Ready\ttrue\tall ready\n", LocalControlResource.lineUnlike(same, "",
                java.time.Duration.ofMinutes(1), java.time.Duration.ofMinutes(1)));
        assertEquals(null, LocalControlResource.lineUnlike(() -> null, "Pending\tfalse\twaiting to start",
                java.time.Duration.ofMinutes(1), java.time.Duration.ofMinutes(1)));
    }
}
