package io.pgha.api.v1.backup;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
import io.fabric8.kubernetes.api.model.Namespaced;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.Kind;
import io.fabric8.kubernetes.model.annotation.Plural;
import io.fabric8.kubernetes.model.annotation.ShortNames;
import io.fabric8.kubernetes.model.annotation.Version;
import io.pgha.api.v1.cluster.PostgresCluster;

/** One base backup of a PostgresCluster. */
@Group(PostgresCluster.GROUP)
@Version(PostgresCluster.VERSION)
@Kind("PostgresBackup")
@Plural("postgresbackups")
@ShortNames("pgb")
@AdditionalPrinterColumn(name = "Cluster", jsonPath = ".spec.cluster")
@AdditionalPrinterColumn(name = "Phase", jsonPath = ".status.phase")
@AdditionalPrinterColumn(name = "Size", jsonPath = ".status.size", type = AdditionalPrinterColumn.Type.INTEGER,
        getDescription = "Bytes stored")
@AdditionalPrinterColumn(name = "Age", jsonPath = ".metadata.creationTimestamp", type = AdditionalPrinterColumn.Type.DATE)
public class PostgresBackup extends CustomResource<PostgresBackupSpec, PostgresBackupStatus> implements Namespaced {
    // overridden only to describe them for kubectl explain
    @Override
    @JsonPropertyDescription("Which cluster to back up, and how.")
    public PostgresBackupSpec getSpec() {
        return super.getSpec();
    }

    @Override
    @JsonPropertyDescription("Progress and result, written by the backup service.")
    public PostgresBackupStatus getStatus() {
        return super.getStatus();
    }

    @Override
    protected PostgresBackupSpec initSpec() {
        return new PostgresBackupSpec();
    }
}
