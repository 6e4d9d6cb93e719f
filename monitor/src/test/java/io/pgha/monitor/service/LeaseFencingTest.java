package io.pgha.monitor.service;

import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.pgha.api.v1.cluster.PostgresCluster;
import io.pgha.api.v1.cluster.TopologyStatus;
import io.pgha.local.LocalLayout;
import io.pgha.local.Ports;
import io.pgha.local.store.FileResourceStore;
import io.pgha.local.testing.ManualClock;
import io.pgha.monitor.core.LeaseTerm;
import io.pgha.monitor.local.LocalPlatform;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Two monitors on one local state directory, each with its own platform, elector and lease, on a
 * clock the test moves: the first loses the lease in the middle of a promotion, the second takes
 * it, and the first one's late write of the candidate it promoted is refused.
 */
class LeaseFencingTest {
    private static final Duration LEASE = Duration.ofSeconds(5);
    private static final Fencer NEVER = (instance, clean, answers, demotion) -> new Fencer.Result(false, null, "not here");

    @TempDir
    Path home;
    private LocalLayout layout;
    private final ManualClock clock = new ManualClock(Instant.parse("2026-12-04T12:00:00Z"));

    @BeforeEach
    void cluster() {
        layout = new LocalLayout(home, Ports.freeRange(LocalLayout.PORT_SPAN));
        PostgresCluster cluster = new PostgresCluster();
        cluster.setMetadata(new ObjectMeta());
        cluster.getMetadata().setName("pg");
        cluster.getMetadata().setNamespace(LocalLayout.NAMESPACE);
        new FileResourceStore(layout.store()).apply(cluster);
    }

    private record Monitor(ClusterSource clusters, LeaderElector elector) {
        LeaseTerm term() {
            return elector.term().orElseThrow();
        }

        void record(LeaseTerm term, String primary) {
            clusters.updateStatus(LocalLayout.NAMESPACE, "pg", term, s -> {
                if (s.topology == null) {
                    s.topology = new TopologyStatus();
                }
                s.topology.currentPrimary = primary;
            });
        }

        String recordedPrimary() {
            return clusters.get(LocalLayout.NAMESPACE, "pg").orElseThrow().getStatus().topology.currentPrimary;
        }
    }

    private Monitor monitor(String identity) {
        LocalPlatform platform = new LocalPlatform(layout, NEVER, clock, clock::nanos);
        return new Monitor(platform.clusters(),
                new LeaderElector(platform.lease(LocalLayout.NAMESPACE, "pg", identity, LEASE), identity, LEASE, clock::nanos));
    }

    @Test
    void aMonitorThatLostTheLeaseMidPromoteCannotRecordItsCandidate() {
        Monitor a = monitor("monitor-a");
        Monitor b = monitor("monitor-b");
        assertTrue(a.elector().renew());
        assertFalse(b.elector().renew(), "b sees a's lease and starts timing it");
        LeaseTerm termA = a.term();
        a.record(termA, "pg-1");

        // a starts promoting pg-2 and stalls there for longer than the lease
        clock.advance(LEASE);
        assertFalse(a.elector().isLeader());
        assertTrue(b.elector().renew(), "no renewal seen for the whole lease: b takes it");
        LeaseTerm termB = b.term();
        assertTrue(termB.counter() > termA.counter(), "a new acquisition, a newer term: " + termA + " then " + termB);

        // a wakes up and records the candidate it promoted, under the term it started with
        assertThrows(ClusterSource.LeaseLostException.class, () -> a.record(termA, "pg-2"));
        assertEquals("pg-1", a.recordedPrimary(), "a's late write did not land");

        b.record(termB, "pg-3");
        assertThrows(ClusterSource.LeaseLostException.class, () -> a.record(termA, "pg-2"));
        assertEquals("pg-3", b.recordedPrimary());
        assertEquals("monitor-b", b.clusters().get(LocalLayout.NAMESPACE, "pg").orElseThrow().getStatus().topology.term.holder);
    }

    /** Before a step, the elector tells how long the lease still covers, on its monotonic clock. */
    @Test
    void theRemainingValidityShrinksWithTimeAndARenewalRestoresIt() {
        Monitor a = monitor("monitor-a");
        assertTrue(a.elector().renew());
        assertEquals(LEASE.minus(LEASE.dividedBy(5)), a.elector().remaining(), "the lease minus the safety margin");
        clock.advance(Duration.ofSeconds(3));
        assertEquals(Duration.ofSeconds(1), a.elector().remaining());
        assertTrue(a.elector().renew());
        assertEquals(Duration.ofSeconds(4), a.elector().remaining());
        clock.advance(Duration.ofSeconds(4));
        assertEquals(Duration.ZERO, a.elector().remaining());
        assertTrue(a.elector().term().isEmpty(), "no term to write under once the validity ran out");
    }
}
