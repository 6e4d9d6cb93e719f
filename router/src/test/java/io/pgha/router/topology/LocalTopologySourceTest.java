package io.pgha.router.topology;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.pgha.api.v1.cluster.PostgresCluster;
import io.pgha.api.v1.cluster.PostgresClusterSpec;
import io.pgha.local.LocalLayout;
import io.pgha.local.store.FileResourceStore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** spec.router as a `pgha apply` leaves it in the local store reaches the source, and so the router. */
class LocalTopologySourceTest {
    @TempDir
    Path home;

    private static PostgresCluster cluster(int poolSize) {
        PostgresCluster c = new PostgresCluster();
        c.setMetadata(new ObjectMetaBuilder().withName("pg").withNamespace(LocalLayout.NAMESPACE).build());
        c.setSpec(new PostgresClusterSpec());
        c.getSpec().router.poolSize = poolSize;
        return c;
    }

    @Test
    void followsTheClustersRouterSpec() {
        LocalLayout layout = new LocalLayout(home, 7000);
        FileResourceStore store = new FileResourceStore(layout.store());
        try (LocalTopologySource source = new LocalTopologySource(layout, Duration.ofMillis(20))) {
            assertEquals(Optional.empty(), source.routerSpec(), "no cluster, no spec");
            store.apply(cluster(5));
            await().atMost(Duration.ofSeconds(10)).until(() -> source.routerSpec().map(s -> s.poolSize).orElse(0) == 5);
            store.apply(cluster(9));
            await().atMost(Duration.ofSeconds(10)).until(() -> source.routerSpec().map(s -> s.poolSize).orElse(0) == 9);
            assertEquals(0, source.current().primary().port(), "no primary before the status names one");
        }
    }
}
