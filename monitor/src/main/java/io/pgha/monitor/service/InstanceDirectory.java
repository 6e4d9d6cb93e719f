package io.pgha.monitor.service;

import io.pgha.monitor.core.Conninfo;

import java.util.Map;
import java.util.Optional;

/** Where the instances of one cluster are, whether the platform counts them ready, and how to log in. */
public interface InstanceDirectory {
    /** A server address. */
    record Endpoint(String host, int port) {
    }

    /**
     * Where an instance is now; {@code endpoint} is null while it has none (a pod not scheduled
     * yet). {@code ready}: what the platform says of it (Kubernetes: the pod's Ready condition).
     */
    record Placement(Endpoint endpoint, boolean ready) {
    }

    record Credentials(String username, String password) {
        @Override
        public String toString() {
            return "Credentials[" + username + "]";
        }
    }

    /** The superuser the monitor connects as, once it exists. */
    Optional<Credentials> superuser();

    /** Each instance, by name with its serial, as placed now; one lookup for all of them. */
    Map<String, Placement> locate(Map<String, Integer> serials);

    /**
     * The connection string a standby streams with from {@code primary}, the provisioner's own,
     * used when the standby's current one is not at hand.
     */
    Conninfo replicationConninfo(String standby, Endpoint primary);
}
