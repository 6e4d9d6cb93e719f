package io.pgha.router.service;

import io.pgha.local.LocalLayout;
import io.pgha.router.topology.LocalTopologySource;
import io.pgha.router.topology.ServerAddress;
import io.pgha.router.topology.StaticTopologySource;
import io.pgha.router.topology.Topology;
import io.pgha.router.topology.TopologySource;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Produces;
import io.quarkus.arc.DefaultBean;

import java.time.Duration;
import java.util.List;

/**
 * The topology: fixed by configuration, or followed from the local store's cluster status. A
 * default bean, so a Kubernetes-backed producer can replace it without touching the router.
 */
@ApplicationScoped
public class TopologyProducer {
    /** How often the local store is read: a failover reaches new transactions within this. */
    private static final Duration LOCAL_REFRESH = Duration.ofMillis(100);

    @Produces
    @DefaultBean
    @ApplicationScoped
    TopologySource topology(RouterConfig config) {
        if (config.topology().source() == RouterConfig.Source.LOCAL) {
            return new LocalTopologySource(LocalLayout.fromEnvironment(), LOCAL_REFRESH);
        }
        List<ServerAddress> standbys = config.topology().standbys().orElse(List.of()).stream()
                .filter(s -> !s.isBlank()).map(ServerAddress::parse).toList();
        return new StaticTopologySource(new Topology(ServerAddress.parse(config.topology().primary()), standbys));
    }
}
