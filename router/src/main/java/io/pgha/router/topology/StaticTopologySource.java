package io.pgha.router.topology;

import io.pgha.api.v1.cluster.RouterSpec;

import java.util.List;
import java.util.Optional;

/**
 * A topology set by hand (configuration, tests); {@link #set} switches it atomically. Without a
 * cluster object it has no {@code spec.router} unless one is set, as a test does to stand in for
 * a cluster whose spec changes.
 */
public final class StaticTopologySource implements TopologySource {
    private volatile Topology topology;
    private volatile Optional<RouterSpec> routerSpec = Optional.empty();

    public StaticTopologySource(Topology topology) {
        this.topology = topology;
    }

    public static StaticTopologySource of(ServerAddress primary, ServerAddress... standbys) {
        return new StaticTopologySource(new Topology(primary, List.of(standbys)));
    }

    public void set(Topology topology) {
        this.topology = topology;
    }

    public void setRouterSpec(RouterSpec spec) {
        this.routerSpec = Optional.ofNullable(spec);
    }

    @Override
    public Topology current() {
        return topology;
    }

    @Override
    public Optional<RouterSpec> routerSpec() {
        return routerSpec;
    }
}
