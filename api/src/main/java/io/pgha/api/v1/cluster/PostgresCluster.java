package io.pgha.api.v1.cluster;

import io.fabric8.kubernetes.api.model.Namespaced;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.Kind;
import io.fabric8.kubernetes.model.annotation.Plural;
import io.fabric8.kubernetes.model.annotation.ShortNames;
import io.fabric8.kubernetes.model.annotation.Version;

/** A highly available PostgreSQL cluster: one primary, hot standbys, a router, a monitor and backups. */
@Group(PostgresCluster.GROUP)
@Version(PostgresCluster.VERSION)
@Kind("PostgresCluster")
@Plural("postgresclusters")
@ShortNames("pgc")
public class PostgresCluster extends CustomResource<PostgresClusterSpec, PostgresClusterStatus> implements Namespaced {
    public static final String GROUP = "pgha.io";
    public static final String VERSION = "v1";

    @Override
    protected PostgresClusterSpec initSpec() {
        return new PostgresClusterSpec();
    }
}
