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

    /**
     * How to log in to the instances: the superuser, and the CA certificate (PEM) an instance's
     * server certificate must be signed by, its name checked against the instance's name; a null
     * CA: no TLS (local mode, where every connection stays on the loopback interface).
     */
    record Credentials(String username, String password, String trustedCa) {
        public Credentials(String username, String password) {
            this(username, password, null);
        }

        @Override
        public String toString() {
            return "Credentials[" + username + (trustedCa == null ? "" : ", TLS verified") + "]";
        }
    }

    /** The superuser the monitor connects as and the CA it trusts, once both exist. */
    Optional<Credentials> superuser();

    /** Each instance, by name with its serial, as placed now; one lookup for all of them. */
    Map<String, Placement> locate(Map<String, Integer> serials);

    /**
     * The connection string a standby streams with from {@code primary}, the provisioner's own,
     * used when the standby's current one is not at hand.
     */
    Conninfo replicationConninfo(String standby, Endpoint primary);

    /**
     * Whether the platform is sure that no server process of {@code instance} runs (its postmaster
     * was killed, say), asked after a check of it was refused. False whenever it cannot tell.
     */
    default boolean serverGone(String instance) {
        return false;
    }
}
