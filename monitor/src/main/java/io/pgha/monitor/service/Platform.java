package io.pgha.monitor.service;

import java.time.Duration;

/** What the monitor needs from the platform it runs on: one local and one Kubernetes implementation. */
public interface Platform {
    ClusterSource clusters();

    /** The lease electing the acting monitor of a cluster. */
    Lease lease(String namespace, String cluster, String identity, Duration duration);

    InstanceDirectory instances(String namespace, String cluster);

    Fencer fencer(String namespace, String cluster);

    RoleMarker roles(String namespace, String cluster);

    /** Where this platform's clusters live, for the log. */
    String describe();
}
