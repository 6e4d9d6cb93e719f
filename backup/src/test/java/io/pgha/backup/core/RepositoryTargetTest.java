package io.pgha.backup.core;

import io.pgha.api.v1.cluster.BackupSpec;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.nio.file.Path;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.*;

class RepositoryTargetTest {
    private static final Path DEFAULT_ROOT = Path.of("/var/lib/pgha/backups");
    private static final Path HOME = Path.of("/var/lib/pgha");

    private static BackupSpec backup() {
        BackupSpec b = new BackupSpec();
        b.repository = new BackupSpec.Repository();
        return b;
    }

    @Test
    void noSpecBackupMeansTheStateDirectoryWithZstdUnderTheClusterName() {
        RepositoryTarget t = RepositoryTarget.of("shop", null, DEFAULT_ROOT, HOME);
        assertEquals(new RepositoryTarget(new RepositoryTarget.Filesystem(DEFAULT_ROOT), "shop", Compression.ZSTD), t);
        assertEquals("shop/wal/", t.layout().walPrefix());
    }

    @Test
    void aFilesystemRepositoryWithTheChosenCompression() {
        BackupSpec b = backup();
        b.repository.filesystem = new BackupSpec.Filesystem();
        b.repository.filesystem.path = "/srv/pg-backups/";
        b.compression = "lz4";
        RepositoryTarget t = RepositoryTarget.of("shop", b, DEFAULT_ROOT, HOME);
        assertEquals(new RepositoryTarget(new RepositoryTarget.Filesystem(Path.of("/srv/pg-backups")), "shop", Compression.LZ4), t);

        b.repository.filesystem.path = "backups";
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> RepositoryTarget.of("shop", b, DEFAULT_ROOT, HOME));
        assertEquals("spec.backup.repository.filesystem.path: must be an absolute path, got backups", e.getMessage());
    }

    @Test
    void anS3RepositoryDefaultsItsPrefixToTheClusterAndResolvesTheCredentialsFile() {
        BackupSpec b = backup();
        b.repository.s3 = new BackupSpec.S3();
        b.repository.s3.bucket = "archive";
        b.repository.s3.endpoint = "http://127.0.0.1:9000";
        b.repository.s3.credentialsSecret = "s3.credentials";
        RepositoryTarget t = RepositoryTarget.of("shop", b, DEFAULT_ROOT, HOME);
        assertEquals(new RepositoryTarget(new RepositoryTarget.S3("archive", Optional.of(URI.create("http://127.0.0.1:9000")),
                "us-east-1", Optional.of(Path.of("/var/lib/pgha/s3.credentials"))), "shop", Compression.ZSTD), t);

        b.repository.s3.prefix = "team/shop";
        b.repository.s3.endpoint = null;
        b.repository.s3.credentialsSecret = "/etc/pgha/aws";
        t = RepositoryTarget.of("shop", b, DEFAULT_ROOT, HOME);
        assertEquals("team/shop", t.prefix());
        assertEquals(new RepositoryTarget.S3("archive", Optional.empty(), "us-east-1", Optional.of(Path.of("/etc/pgha/aws"))), t.location());
        assertEquals("team/shop/wal/00000001/", t.layout().walTimelinePrefix(1));
    }

    @Test
    void unusableValuesAreNamed() {
        BackupSpec b = backup();
        b.repository.s3 = new BackupSpec.S3();
        b.repository.s3.bucket = "archive";
        b.repository.s3.endpoint = "127.0.0.1:9000";
        assertTrue(assertThrows(IllegalArgumentException.class, () -> RepositoryTarget.of("shop", b, DEFAULT_ROOT, HOME))
                .getMessage().startsWith("spec.backup.repository.s3.endpoint: "));
        b.repository.s3.endpoint = null;
        b.repository.s3.prefix = "../other";
        RepositoryTarget t = RepositoryTarget.of("shop", b, DEFAULT_ROOT, HOME);
        assertThrows(IllegalArgumentException.class, t::layout);
        b.repository.filesystem = new BackupSpec.Filesystem();
        assertEquals("spec.backup.repository: set exactly one of s3 and filesystem",
                assertThrows(IllegalArgumentException.class, () -> RepositoryTarget.of("shop", b, DEFAULT_ROOT, HOME)).getMessage());
    }
}
