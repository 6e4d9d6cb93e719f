package io.pgha.api;

import java.util.Collection;

/** Label keys and values pgha puts on what it creates. */
public final class Labels {
    private Labels() {
    }

    public static final String CLUSTER = "pgha.io/cluster";
    public static final String INSTANCE = "pgha.io/instance";
    /** primary or standby; the read-write and read-only services select on it. */
    public static final String ROLE = "pgha.io/role";
    /** {@link #ROLE} of the one instance the read-write service selects; the provisioner and the monitor both set it. */
    public static final String ROLE_PRIMARY = "primary";
    /** {@link #ROLE} of every other instance, fenced former primaries included. */
    public static final String ROLE_STANDBY = "standby";

    /**
     * The {@link #ROLE} of an instance, one rule for the provisioner and the monitor so that they
     * never fight over the label: primary for the primary unless it is fenced. A fenced primary
     * (between its fencing and its successor's promotion) is a standby: the read-write service
     * then selects nobody, and a recreated pod of it rejoins instead of starting as a primary.
     */
    public static String role(String instance, String primary, Collection<String> fenced) {
        return instance.equals(primary) && !fenced.contains(instance) ? ROLE_PRIMARY : ROLE_STANDBY;
    }

    public static final String COMPONENT = "pgha.io/component";
    public static final String MANAGED_BY = "app.kubernetes.io/managed-by";
    public static final String MANAGED_BY_VALUE = "pgha";

    public static final String COMPONENT_INSTANCE = "instance";
    public static final String COMPONENT_ROUTER = "router";

    /** Annotation on a cluster that requests a switchover to the named instance. */
    public static final String SWITCHOVER_ANNOTATION = "pgha.io/switchover-to";
}
