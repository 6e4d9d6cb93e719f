package io.pgha.router.service;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.pgha.local.LocalLayout;
import io.pgha.router.topology.KubernetesTopologySource;
import io.pgha.router.topology.LocalTopologySource;
import io.pgha.router.topology.ServerAddress;
import io.pgha.router.topology.StaticTopologySource;
import io.pgha.router.topology.Topology;
import io.pgha.router.topology.TopologySource;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Disposes;
import jakarta.enterprise.inject.Instance;
import jakarta.enterprise.inject.Produces;
import io.quarkus.arc.DefaultBean;

import java.time.Duration;
import java.util.List;

/**
 * The topology: fixed by configuration, or followed from the cluster status, in the local store
 * or on Kubernetes. The Kubernetes client is looked up only for the Kubernetes source, so in the
 * other modes none is created or contacted. A default bean, so a test can replace it without
 * touching the router.
 */
@ApplicationScoped
public class TopologyProducer {
    /** How often the local store is read: a failover reaches new transactions within this. */
    private static final Duration LOCAL_REFRESH = Duration.ofMillis(100);

    @Produces
    @DefaultBean
    @ApplicationScoped
    TopologySource topology(RouterConfig config, Instance<KubernetesClient> kubernetes) {
        RouterConfig.Topology t = config.topology();
        switch (t.source()) {
            case LOCAL:
                return new LocalTopologySource(LocalLayout.fromEnvironment(), LOCAL_REFRESH);
            case KUBERNETES:
                return new KubernetesTopologySource(kubernetes.get(),
                        t.namespace().orElseThrow(() -> new IllegalStateException("pgha.router.topology.namespace (PGHA_NAMESPACE) is not set")),
                        t.cluster().orElseThrow(() -> new IllegalStateException("pgha.router.topology.cluster (PGHA_CLUSTER) is not set")));
            default:
                List<ServerAddress> standbys = t.standbys().orElse(List.of()).stream()
                        .filter(s -> !s.isBlank()).map(ServerAddress::parse).toList();
                return new StaticTopologySource(new Topology(ServerAddress.parse(t.primary()), standbys));
        }
    }

    /** Stops what follows the cluster (a polling thread, the informers) with the application. */
    void close(@Disposes TopologySource source) throws Exception {
        if (source instanceof AutoCloseable c) {
            c.close();
        }
    }
}
