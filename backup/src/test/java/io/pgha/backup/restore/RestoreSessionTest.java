package io.pgha.backup.restore;

import io.pgha.backup.core.BackupInfo;
import io.pgha.backup.core.Compression;
import io.pgha.backup.core.RepositoryLayout;
import io.pgha.backup.repository.FilesystemRepository;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

/** A restore reads base backups of every compression a cluster may have written them with. */
class RestoreSessionTest {
    @TempDir
    Path root;

    @ParameterizedTest
    @EnumSource(Compression.class)
    void aBaseBackupOfEachCompressionStreamsBackDecompressed(Compression codec) throws Exception {
        FilesystemRepository repository = new FilesystemRepository(root);
        RepositoryLayout layout = new RepositoryLayout("src", codec);
        byte[] tar = "backup_label and the data directory ".repeat(5000).getBytes(StandardCharsets.US_ASCII);
        byte[] manifest = "{\"PostgreSQL-Backup-Manifest-Version\": 1}".getBytes(StandardCharsets.US_ASCII);
        repository.putIfAbsent(layout.baseTarKey("src-20261205t010000z"), codec.compress(tar));
        repository.putIfAbsent(layout.manifestKey("src-20261205t010000z"), codec.compress(manifest));
        BackupInfo info = new BackupInfo("src-20261205t010000z", "src", 1, "0/2000028", "0/2000100", "000000010000000000000002",
                "000000010000000000000002", "2026-12-05T01:00:00Z", "2026-12-05T01:00:05Z", 1, tar.length, codec.id(), 15);
        RestoreSessions.Session session = new RestoreSessions.Session(repository, layout, info, "", null);
        try (InputStream in = session.open(layout.baseTarKey(info.name()))) {
            assertArrayEquals(tar, in.readAllBytes());
        }
        try (InputStream in = session.open(layout.manifestKey(info.name()))) {
            assertArrayEquals(manifest, in.readAllBytes());
        }
    }
}
