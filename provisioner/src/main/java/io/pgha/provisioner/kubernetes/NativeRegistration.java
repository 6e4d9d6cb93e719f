package io.pgha.provisioner.kubernetes;

import io.pgha.api.v1.Condition;
import io.pgha.api.v1.backup.PostgresBackup;
import io.pgha.api.v1.backup.PostgresBackupSpec;
import io.pgha.api.v1.backup.PostgresBackupStatus;
import io.pgha.api.v1.cluster.BackupSpec;
import io.pgha.api.v1.cluster.BackupStatus;
import io.pgha.api.v1.cluster.BootstrapSpec;
import io.pgha.api.v1.cluster.FailoverSpec;
import io.pgha.api.v1.cluster.NetworkSpec;
import io.pgha.api.v1.cluster.PostgresCluster;
import io.pgha.api.v1.cluster.PostgresClusterSpec;
import io.pgha.api.v1.cluster.PostgresClusterStatus;
import io.pgha.api.v1.cluster.PostgresSpec;
import io.pgha.api.v1.cluster.ProvisioningStatus;
import io.pgha.api.v1.cluster.ReplicationSpec;
import io.pgha.api.v1.cluster.ResourcesSpec;
import io.pgha.api.v1.cluster.RouterSpec;
import io.pgha.api.v1.cluster.StorageSpec;
import io.pgha.api.v1.cluster.TopologyStatus;
import io.quarkus.runtime.annotations.RegisterForReflection;

/**
 * The pgha.io/v1 model, read and written by Jackson through reflection: registered for a native
 * image (the api module has no Quarkus dependency, so the registration lives here). Unverified:
 * no native build runs on the build machines.
 */
@RegisterForReflection(targets = {
        PostgresCluster.class, PostgresClusterSpec.class, PostgresClusterStatus.class, Condition.class,
        PostgresSpec.class, StorageSpec.class, ResourcesSpec.class, ResourcesSpec.Amounts.class,
        NetworkSpec.class, ReplicationSpec.class, ReplicationSpec.Synchronous.class, RouterSpec.class, RouterSpec.PoolMode.class,
        RouterSpec.ReadPolicy.class, FailoverSpec.class, BackupSpec.class, BackupSpec.Repository.class, BackupSpec.S3.class,
        BackupSpec.Filesystem.class, BackupSpec.Retention.class, BootstrapSpec.class, BootstrapSpec.Initdb.class,
        BootstrapSpec.Recovery.class, BootstrapSpec.Target.class, ProvisioningStatus.class, ProvisioningStatus.Instance.class,
        TopologyStatus.class, TopologyStatus.Instance.class, TopologyStatus.Promotion.class, BackupStatus.class,
        PostgresBackup.class, PostgresBackupSpec.class, PostgresBackupSpec.Method.class, PostgresBackupStatus.class},
        ignoreNested = false)
final class NativeRegistration {
    private NativeRegistration() {
    }
}
