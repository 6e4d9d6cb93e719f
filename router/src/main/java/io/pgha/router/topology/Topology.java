package io.pgha.router.topology;

import java.util.List;
import java.util.Map;

/**
 * The servers of a cluster as the router sees them: one primary, any number of standbys, and
 * what is known about each standby's health and lag.
 */
public record Topology(ServerAddress primary, List<ServerAddress> standbys, Map<ServerAddress, StandbyState> states) {
    public Topology {
        standbys = List.copyOf(standbys);
        states = Map.copyOf(states);
    }

    public Topology(ServerAddress primary, List<ServerAddress> standbys) {
        this(primary, standbys, Map.of());
    }

    public StandbyState state(ServerAddress standby) {
        return states.getOrDefault(standby, StandbyState.UNKNOWN);
    }
}
