package io.pgha.router.topology;

import java.util.List;

/** The servers of a cluster as the router sees them: one primary and any number of standbys. */
public record Topology(ServerAddress primary, List<ServerAddress> standbys) {
    public Topology {
        standbys = List.copyOf(standbys);
    }
}
