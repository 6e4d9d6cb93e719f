package io.pgha.local.store;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.pgha.api.v1.cluster.PostgresCluster;
import io.pgha.api.v1.cluster.PostgresClusterStatus;
import io.pgha.api.v1.cluster.TopologyStatus;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

class FileResourceStoreTest {
    @TempDir
    Path dir;

    private static PostgresCluster cluster(int instances) {
        PostgresCluster c = new PostgresCluster();
        c.setMetadata(new ObjectMetaBuilder().withName("pg").withNamespace("default").build());
        c.getSpec().instances = instances;
        return c;
    }

    @Test
    void applyCreatesThenBumpsGenerationOnlyWhenTheSpecChanges() {
        FileResourceStore store = new FileResourceStore(dir);
        PostgresCluster created = store.apply(cluster(3));
        assertEquals(1L, created.getMetadata().getGeneration());
        assertEquals("1", created.getMetadata().getResourceVersion());
        assertNotNull(created.getMetadata().getUid());

        PostgresCluster same = store.apply(cluster(3));
        assertEquals("1", same.getMetadata().getResourceVersion(), "an identical apply writes nothing");

        PostgresCluster scaled = store.apply(cluster(4));
        assertEquals(2L, scaled.getMetadata().getGeneration());
        assertEquals(created.getMetadata().getUid(), scaled.getMetadata().getUid());
        assertEquals(4, store.get(PostgresCluster.class, "default", "pg").orElseThrow().getSpec().instances);
    }

    @Test
    void theVersionChangesWithEveryWriteAndOnlyThen() {
        FileResourceStore store = new FileResourceStore(dir);
        Object empty = store.version(PostgresCluster.class, "default");
        store.apply(cluster(3));
        Object created = store.version(PostgresCluster.class, "default");
        assertNotEquals(empty, created);
        assertEquals(created, store.version(PostgresCluster.class, "default"), "no write, same version");
        store.apply(cluster(3));
        assertEquals(created, store.version(PostgresCluster.class, "default"), "an identical apply writes nothing");
        store.updateStatus(PostgresCluster.class, "default", "pg", c -> {
            c.setStatus(new PostgresClusterStatus());
            c.getStatus().phase = "Ready";
            return c;
        });
        Object statusWritten = store.version(PostgresCluster.class, "default");
        assertNotEquals(created, statusWritten, "a status write");
        store.apply(cluster(4));
        assertNotEquals(statusWritten, store.version(PostgresCluster.class, "default"), "a spec write");
        store.delete(PostgresCluster.class, "default", "pg");
        assertEquals(empty, store.version(PostgresCluster.class, "default"), "deleted");
    }

    @Test
    void staleResourceVersionIsAConflict() {
        FileResourceStore store = new FileResourceStore(dir);
        PostgresCluster first = store.apply(cluster(3));
        PostgresCluster stale = cluster(5);
        stale.getMetadata().setResourceVersion(first.getMetadata().getResourceVersion());
        store.apply(cluster(4));
        assertThrows(ConflictException.class, () -> store.apply(stale));
        assertEquals(4, store.get(PostgresCluster.class, "default", "pg").orElseThrow().getSpec().instances);
    }

    @Test
    void specAndStatusWritersDoNotClobberEachOther() {
        FileResourceStore store = new FileResourceStore(dir);
        store.apply(cluster(3));
        store.updateStatus(PostgresCluster.class, "default", "pg", c -> {
            c.setStatus(new PostgresClusterStatus());
            c.getStatus().phase = "Ready";
            return c;
        });
        store.apply(cluster(4));
        PostgresCluster now = store.get(PostgresCluster.class, "default", "pg").orElseThrow();
        assertEquals("Ready", now.getStatus().phase, "apply keeps the status");
        assertEquals(4, now.getSpec().instances);
        assertThrows(IllegalStateException.class, () -> store.updateStatus(PostgresCluster.class, "default", "pg", c -> {
            c.getSpec().instances = 9;
            return c;
        }));
    }

    @Test
    void unchangedStatusIsNotWritten() {
        FileResourceStore store = new FileResourceStore(dir);
        store.apply(cluster(3));
        PostgresCluster a = store.updateStatus(PostgresCluster.class, "default", "pg", c -> {
            c.setStatus(new PostgresClusterStatus());
            c.getStatus().phase = "Ready";
            return c;
        }).orElseThrow();
        PostgresCluster b = store.updateStatus(PostgresCluster.class, "default", "pg", c -> {
            c.getStatus().phase = "Ready";
            return c;
        }).orElseThrow();
        assertEquals(a.getMetadata().getResourceVersion(), b.getMetadata().getResourceVersion());
        assertTrue(store.updateStatus(PostgresCluster.class, "default", "absent", c -> c).isEmpty());
    }

    @Test
    void concurrentStatusWritersOfDifferentPartsLoseNothing() throws Exception {
        FileResourceStore store = new FileResourceStore(dir);
        store.apply(cluster(3));
        store.updateStatus(PostgresCluster.class, "default", "pg", c -> {
            c.setStatus(new PostgresClusterStatus());
            c.getStatus().topology = new TopologyStatus();
            return c;
        });
        ExecutorService pool = Executors.newFixedThreadPool(4);
        List<Future<?>> futures = new ArrayList<>();
        int perWriter = 100;
        for (int w = 0; w < 4; w++) {
            boolean fenced = w % 2 == 0;
            // two writers append to topology.fenced, two to topology.history: every append must survive
            futures.add(pool.submit(() -> {
                for (int i = 0; i < perWriter; i++) {
                    store.updateStatus(PostgresCluster.class, "default", "pg", c -> {
                        if (fenced) {
                            c.getStatus().topology.fenced.add("x");
                        } else {
                            c.getStatus().topology.history.add(new TopologyStatus.Promotion());
                        }
                        return c;
                    });
                }
            }));
        }
        for (Future<?> f : futures) {
            f.get(60, TimeUnit.SECONDS);
        }
        pool.shutdown();
        TopologyStatus t = store.get(PostgresCluster.class, "default", "pg").orElseThrow().getStatus().topology;
        assertEquals(2 * perWriter, t.fenced.size());
        assertEquals(2 * perWriter, t.history.size());
    }

    @Test
    void deleteRemoves() {
        FileResourceStore store = new FileResourceStore(dir);
        store.apply(cluster(3));
        assertTrue(store.delete(PostgresCluster.class, "default", "pg"));
        assertTrue(store.get(PostgresCluster.class, "default", "pg").isEmpty());
        assertEquals(List.of(), store.list(PostgresCluster.class, "default"));
        assertNull(store.get(PostgresCluster.class, "other", "pg").orElse(null));
    }

    /**
     * A status writer frozen in the middle of its write (SIGSTOP, a paused machine) holds no lock
     * that another writer waits for; when it thaws, its change is made again on what is there
     * then, so the other writer's change survives.
     */
    @Test
    void aWriterFrozenMidWriteHoldsNobodyUpAndOverwritesNothing() throws Exception {
        FileResourceStore store = new FileResourceStore(dir);
        store.apply(cluster(3));
        CountDownLatch inside = new CountDownLatch(1);
        CountDownLatch thaw = new CountDownLatch(1);
        CompletableFuture<?> frozen = CompletableFuture.runAsync(() -> store.updateStatus(PostgresCluster.class, "default", "pg", c -> {
            inside.countDown();
            try {
                thaw.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            status(c).topology.fenced.add("frozen");
            return c;
        }));
        try {
            assertTrue(inside.await(10, TimeUnit.SECONDS), "the first writer started");
            assertTimeoutPreemptively(java.time.Duration.ofSeconds(5), () -> store.updateStatus(PostgresCluster.class, "default", "pg", c -> {
                status(c).topology.currentPrimary = "pg-2";
                return c;
            }), "the second writer waited for a lock the frozen one keeps");
        } finally {
            thaw.countDown();
            frozen.get(10, TimeUnit.SECONDS);
        }
        TopologyStatus t = store.get(PostgresCluster.class, "default", "pg").orElseThrow().getStatus().topology;
        assertEquals("pg-2", t.currentPrimary, "the thawed writer did not overwrite the other's change");
        assertEquals(List.of("frozen"), t.fenced);
    }

    private static PostgresClusterStatus status(PostgresCluster c) {
        if (c.getStatus() == null) {
            c.setStatus(new PostgresClusterStatus());
        }
        if (c.getStatus().topology == null) {
            c.getStatus().topology = new TopologyStatus();
        }
        return c.getStatus();
    }
}
