package io.pgha.local;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.pgha.api.v1.cluster.PostgresCluster;
import io.pgha.local.store.FileLease;
import io.pgha.local.store.FileResourceStore;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;

/**
 * Writes one resource, one lease and one secret into the state directory named by its argument,
 * through the same classes the services use; {@link DurableWriteTest} runs it under strace.
 */
public final class DurableWriteProbe {
    public static final String CLUSTER = "pg";
    public static final String LEASE = "pg-monitor";
    public static final String SECRET = "pg-app";

    private DurableWriteProbe() {
    }

    public static void main(String[] args) {
        LocalLayout layout = new LocalLayout(Path.of(args[0]), LocalLayout.DEFAULT_PORT_BASE);
        PostgresCluster c = new PostgresCluster();
        c.setMetadata(new ObjectMetaBuilder().withName(CLUSTER).withNamespace(LocalLayout.NAMESPACE).build());
        new FileResourceStore(layout.store()).apply(c);
        new FileLease(layout.lease(LEASE), "probe", Duration.ofSeconds(5), Clock.systemUTC()).tryAcquireOrRenew();
        new LocalSecrets(layout).getOrCreate(SECRET, "app", "app");
    }
}
