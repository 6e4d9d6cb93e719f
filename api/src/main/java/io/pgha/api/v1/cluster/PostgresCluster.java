package io.pgha.api.v1.cluster;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
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
// kubectl get postgresclusters; Age is no longer added by the API server once columns are declared
@AdditionalPrinterColumn(name = "Phase", jsonPath = ".status.phase", getDescription = "The provisioner's summary")
@AdditionalPrinterColumn(name = "Ready", jsonPath = ".status.provisioning.ready",
        getDescription = "Ready instances out of the planned ones")
@AdditionalPrinterColumn(name = "Primary", jsonPath = ".status.topology.currentPrimary",
        getDescription = "The instance that takes writes")
@AdditionalPrinterColumn(name = "Age", jsonPath = ".metadata.creationTimestamp", type = AdditionalPrinterColumn.Type.DATE)
public class PostgresCluster extends CustomResource<PostgresClusterSpec, PostgresClusterStatus> implements Namespaced {
    public static final String GROUP = "pgha.io";
    public static final String VERSION = "v1";

    // overridden only to describe them for kubectl explain
    @Override
    @JsonPropertyDescription("What the cluster should be. The provisioner makes it so; the same manifest runs locally.")
    public PostgresClusterSpec getSpec() {
        return super.getSpec();
    }

    @Override
    @JsonPropertyDescription("What pgha observed, written in parts: phase and provisioning by the provisioner, topology by "
            + "the monitor, backup by the backup service.")
    public PostgresClusterStatus getStatus() {
        return super.getStatus();
    }

    @Override
    protected PostgresClusterSpec initSpec() {
        return new PostgresClusterSpec();
    }
}
