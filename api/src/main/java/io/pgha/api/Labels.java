package io.pgha.api;

/** Label keys and values pgha puts on what it creates. */
public final class Labels {
    private Labels() {
    }

    public static final String CLUSTER = "pgha.io/cluster";
    public static final String INSTANCE = "pgha.io/instance";
    /** primary or standby; the read-write and read-only services select on it. */
    public static final String ROLE = "pgha.io/role";
    public static final String COMPONENT = "pgha.io/component";
    public static final String MANAGED_BY = "app.kubernetes.io/managed-by";
    public static final String MANAGED_BY_VALUE = "pgha";

    public static final String COMPONENT_INSTANCE = "instance";
    public static final String COMPONENT_ROUTER = "router";

    /** Annotation on a cluster that requests a switchover to the named instance. */
    public static final String SWITCHOVER_ANNOTATION = "pgha.io/switchover-to";
}
