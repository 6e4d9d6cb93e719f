package io.pgha.router.topology;

import java.util.List;

/**
 * The servers of a cluster as its status names them: one primary and any number of standbys.
 * Whether a standby is healthy and current is the router's own finding ({@link ReplayTracker}),
 * not part of the topology.
 */
public record Topology(ServerAddress primary, List<ServerAddress> standbys) {
    public Topology {
        standbys = List.copyOf(standbys);
    }
}
