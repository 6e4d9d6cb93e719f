package io.pgha.api.v1.backup;

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
public class PostgresBackup extends CustomResource<PostgresBackupSpec, PostgresBackupStatus> implements Namespaced {
    @Override
    protected PostgresBackupSpec initSpec() {
        return new PostgresBackupSpec();
    }
}
