package io.pgha.backup.kubernetes;

import io.pgha.api.v1.cluster.BackupSpec;
import io.pgha.api.v1.cluster.PostgresCluster;
import io.pgha.backup.core.RepositoryTarget;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Which repositories the backup service accepts, as a Deployment and as a Knative Service (no API server needed for these). */
class KubernetesTargetsTest {
    private static final Path WORK = Path.of("/nonexistent-credentials");

    @Test
    void aKnativeServiceRefusesAFilesystemRepositoryNamingTheFieldAndTakesS3() {
        KubernetesTargets knative = targets(Optional.of("pgha-backup"), cluster("fs", filesystem()), cluster("obj", s3()));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> knative.target("fs"));
        assertEquals("spec.backup.repository.filesystem of cluster fs: the backup service runs as the Knative Service pgha-backup, "
                + "which scales to zero and to several replicas; only an S3 repository works there", e.getMessage());
        assertInstanceOf(RepositoryTarget.S3.class, knative.target("obj").location());
    }

    @Test
    void aDeploymentTakesBoth() {
        KubernetesTargets deployment = targets(Optional.empty(), cluster("fs", filesystem()), cluster("obj", s3()));
        assertInstanceOf(RepositoryTarget.Filesystem.class, deployment.target("fs").location());
        assertInstanceOf(RepositoryTarget.S3.class, deployment.target("obj").location());
    }

    private static KubernetesTargets targets(Optional<String> knative, PostgresCluster... clusters) {
        // neither repository here has a credentials Secret: the client is never called
        return new KubernetesTargets(null, () -> List.of(clusters), () -> List.of(clusters), WORK, knative);
    }

    private static PostgresCluster cluster(String name, BackupSpec backup) {
        PostgresCluster c = new PostgresCluster();
        c.getMetadata().setName(name);
        c.getMetadata().setNamespace("db");
        c.getSpec().backup = backup;
        return c;
    }

    private static BackupSpec filesystem() {
        BackupSpec b = new BackupSpec();
        b.repository = new BackupSpec.Repository();
        b.repository.filesystem = new BackupSpec.Filesystem();
        b.repository.filesystem.path = "/backups";
        return b;
    }

    private static BackupSpec s3() {
        BackupSpec b = new BackupSpec();
        b.repository = new BackupSpec.Repository();
        b.repository.s3 = new BackupSpec.S3();
        b.repository.s3.bucket = "backups";
        return b;
    }
}
