package io.pgha.api;

import java.util.Set;

/**
 * Label names of pgha's Prometheus metrics, for every service. None of them is a name Prometheus
 * or the Prometheus Operator puts on a scraped target ({@link #RESERVED}): an exported label of
 * such a name would be renamed {@code exported_...} on the way in, and rules, dashboards and
 * scripts would look for it in vain.
 */
public final class MetricLabels {
    /** The PostgresCluster's name. */
    public static final String CLUSTER = "pgha_cluster";
    /** The PostgresCluster's namespace ({@code default} in local mode). */
    public static final String NAMESPACE = "pgha_namespace";
    /** A PostgreSQL instance of the cluster (pg-1, pg-2, ...). */
    public static final String INSTANCE = "pgha_instance";

    /** Labels that Prometheus (instance, job) and the Prometheus Operator (the rest) set on targets. */
    public static final Set<String> RESERVED = Set.of("instance", "job", "namespace", "pod", "service", "container",
            "endpoint");

    private MetricLabels() {
    }
}
