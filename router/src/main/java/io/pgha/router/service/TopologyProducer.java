package io.pgha.router.service;

import io.pgha.router.topology.ServerAddress;
import io.pgha.router.topology.StaticTopologySource;
import io.pgha.router.topology.Topology;
import io.pgha.router.topology.TopologySource;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Produces;
import io.quarkus.arc.DefaultBean;

import java.util.List;

/**
 * The topology from configuration. A default bean: a producer of {@link TopologySource} backed by
 * the cluster status (local store or Kubernetes) replaces it without touching the router.
 */
@ApplicationScoped
public class TopologyProducer {
    @Produces
    @DefaultBean
    @ApplicationScoped
    TopologySource topology(RouterConfig config) {
        List<ServerAddress> standbys = config.topology().standbys().orElse(List.of()).stream()
                .filter(s -> !s.isBlank()).map(ServerAddress::parse).toList();
        return new StaticTopologySource(new Topology(ServerAddress.parse(config.topology().primary()), standbys));
    }
}
