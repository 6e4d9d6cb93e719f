package io.pgha.monitor.service;

import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.pgha.api.v1.cluster.PostgresCluster;
import io.pgha.local.LocalLayout;
import io.pgha.local.Ports;
import io.pgha.local.store.FileResourceStore;
import io.pgha.monitor.local.LocalPlatform;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Two monitors on one state directory: one leads; when it dies the other takes over within the lease time. */
class LeaderElectionTest {
    private static final Duration LEASE = Duration.ofSeconds(2);

    @TempDir
    Path home;
    private Vertx vertx;
    private LocalLayout layout;

    @BeforeEach
    void setUp() {
        vertx = Vertx.vertx();
        layout = new LocalLayout(home, Ports.freeRange(LocalLayout.PORT_SPAN));
        PostgresCluster cluster = new PostgresCluster();
        cluster.setMetadata(new ObjectMeta());
        cluster.getMetadata().setName("pg");
        cluster.getMetadata().setNamespace(LocalLayout.NAMESPACE);
        new FileResourceStore(layout.store()).apply(cluster);
    }

    @AfterEach
    void tearDown() {
        vertx.close().toCompletionStage().toCompletableFuture().join();
    }

    private MonitorRunner runner(String identity) {
        Fencer never = (instance, clean, answers, demotion) -> new Fencer.Result(false, null, "not in this test");
        ClusterMonitor.Config config = new ClusterMonitor.Config(LEASE, Duration.ofSeconds(1), Duration.ofSeconds(1),
                Duration.ofSeconds(1), Duration.ofSeconds(1), Duration.ofSeconds(10));
        return new MonitorRunner(new LocalPlatform(layout, never, Clock.systemUTC()), vertx, new SimpleMeterRegistry(), identity,
                config, Clock.systemUTC()).start();
    }

    private static boolean leads(MonitorRunner r) {
        return r.monitor().map(ClusterMonitor::isLeader).orElse(false);
    }

    @Test
    void oneLeadsAndTheOtherTakesOverWithinTheLeaseTimeAfterACrash() {
        MonitorRunner a = runner("monitor-a");
        await().atMost(5, TimeUnit.SECONDS).until(() -> leads(a));
        MonitorRunner b = runner("monitor-b");
        AtomicBoolean both = new AtomicBoolean();
        AtomicInteger samples = new AtomicInteger();
        Thread watcher = new Thread(() -> {
            while (!Thread.currentThread().isInterrupted()) {
                if (leads(a) && leads(b)) {
                    both.set(true);
                }
                samples.incrementAndGet();
                try {
                    Thread.sleep(5);
                } catch (InterruptedException e) {
                    return;
                }
            }
        });
        watcher.start();
        try {
            await().atMost(5, TimeUnit.SECONDS).until(() -> b.monitor().isPresent());
            // b keeps trying for two lease periods and never gets it while a renews
            await().during(2 * LEASE.toMillis(), TimeUnit.MILLISECONDS).atMost(3 * LEASE.toMillis(), TimeUnit.MILLISECONDS)
                    .until(() -> leads(a) && !leads(b));
            assertEquals("monitor-a", b.monitor().orElseThrow().leaseHolder());

            long crashed = System.nanoTime();
            a.halt(); // no release: as if the process died
            await().atMost(LEASE.plusSeconds(2).toMillis(), TimeUnit.MILLISECONDS).until(() -> leads(b));
            long tookMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - crashed);
            System.out.printf("lease takeover after a crash: %d ms (lease %d ms)%n", tookMillis, LEASE.toMillis());
            assertTrue(tookMillis <= LEASE.toMillis() + 1000, "took " + tookMillis + " ms");
            assertFalse(leads(a), "the halted monitor no longer counts itself the leader");
        } finally {
            watcher.interrupt();
            b.close();
            a.close();
        }
        assertTrue(samples.get() > 100);
        assertFalse(both.get(), "two monitors acted as leader at the same time");
    }

    @Test
    void aCleanShutdownHandsTheLeaseOverAtOnce() {
        MonitorRunner a = runner("monitor-a");
        await().atMost(5, TimeUnit.SECONDS).until(() -> leads(a));
        MonitorRunner b = runner("monitor-b");
        try {
            await().atMost(5, TimeUnit.SECONDS).until(() -> b.monitor().isPresent());
            long closed = System.nanoTime();
            a.close();
            await().atMost(LEASE.toMillis(), TimeUnit.MILLISECONDS).until(() -> leads(b));
            assertTrue(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - closed) < LEASE.toMillis());
        } finally {
            b.close();
        }
    }
}
