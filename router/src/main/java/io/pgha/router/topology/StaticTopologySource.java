package io.pgha.router.topology;

import java.util.List;

/** A topology set by hand (configuration, tests); {@link #set} switches it atomically. */
public final class StaticTopologySource implements TopologySource {
    private volatile Topology topology;

    public StaticTopologySource(Topology topology) {
        this.topology = topology;
    }

    public static StaticTopologySource of(ServerAddress primary, ServerAddress... standbys) {
        return new StaticTopologySource(new Topology(primary, List.of(standbys)));
    }

    public void set(Topology topology) {
        this.topology = topology;
    }

    @Override
    public Topology current() {
        return topology;
    }
}
