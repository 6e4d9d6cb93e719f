package io.pgha.backup.kubernetes;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertFalse;

/** The Kubernetes backup service takes the CA certificates and S3 key pairs it wrote for its clients with it when it stops. */
class KubernetesBackupServiceStopTest {
    @TempDir
    Path root;

    @Test
    void stoppingRemovesTheWorkDirectoryWithTheKeysInIt() throws Exception {
        Path work = root.resolve("work");
        Files.createDirectories(work.resolve("s3"));
        Files.writeString(work.resolve("s3").resolve("pg.credentials"), "[default]\naws_secret_access_key = not-a-real-one\n");
        Files.createDirectories(work.resolve("ca"));
        KubernetesBackupService service = new KubernetesBackupService();
        service.work = work;

        service.onStop(null);

        assertFalse(Files.exists(work), "the work directory outlived the service");
    }
}
