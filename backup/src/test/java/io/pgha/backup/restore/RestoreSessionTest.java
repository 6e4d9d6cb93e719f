package io.pgha.backup.restore;

import io.pgha.backup.core.BackupInfo;
import io.pgha.backup.core.Compression;
import io.pgha.backup.core.ManifestCheckedTar;
import io.pgha.backup.core.RepositoryLayout;
import io.pgha.backup.repository.FilesystemRepository;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A restore reads base backups of every compression a cluster may have written them with, and their manifests. */
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

    /** A manifest as PostgreSQL writes one: the files, then its own SHA-256 over everything before its last line. */
    private static byte[] manifestListing(String path) throws Exception {
        String body = "{\"PostgreSQL-Backup-Manifest-Version\": 1,\n\"Files\": [\n{ \"Path\": \"" + path
                + "\", \"Size\": 3, \"Checksum-Algorithm\": \"CRC32C\", \"Checksum\": \"f0a1b2c3\" }\n],\n";
        String sum = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(body.getBytes(StandardCharsets.US_ASCII)));
        return (body + "\"Manifest-Checksum\": \"" + sum + "\"}\n").getBytes(StandardCharsets.US_ASCII);
    }

    private static BackupInfo backup(String name) {
        return new BackupInfo(name, "src", 1, "0/2000028", "0/2000100", "000000010000000000000002",
                "000000010000000000000002", "2026-12-05T01:00:00Z", "2026-12-05T01:00:05Z", 1, 1000, Compression.NONE.id(), 15);
    }

    @Test
    void theManifestReadAheadIsTakenOnceAndAnExtractionTriedAgainReadsItAnew() throws Exception {
        FilesystemRepository repository = new FilesystemRepository(root);
        RepositoryLayout layout = new RepositoryLayout("src", Compression.NONE);
        BackupInfo info = backup("src-20261205t010000z");
        String key = layout.manifestKey(info.name());
        repository.putIfAbsent(key, manifestListing("PG_VERSION"));
        RestoreSessions.Session session = new RestoreSessions.Session(repository, layout, info, "", null);
        session.readManifestAhead();
        assertEquals(Set.of("PG_VERSION"), session.manifestFiles().keySet());
        repository.delete(key);
        repository.putIfAbsent(key, manifestListing("global/pg_control"));
        assertEquals(Set.of("global/pg_control"), session.manifestFiles().keySet(), "read again, not the first read's result");
    }

    @Test
    void aManifestReadAheadThatIsNotWholeFailsAsAMismatchNamingWhatIsWrong() throws Exception {
        FilesystemRepository repository = new FilesystemRepository(root);
        RepositoryLayout layout = new RepositoryLayout("src", Compression.NONE);
        BackupInfo info = backup("src-20261205t020000z");
        byte[] whole = manifestListing("PG_VERSION");
        repository.putIfAbsent(layout.manifestKey(info.name()), Arrays.copyOf(whole, whole.length - 20));
        RestoreSessions.Session session = new RestoreSessions.Session(repository, layout, info, "", null);
        session.readManifestAhead();
        ManifestCheckedTar.Mismatch e = assertThrows(ManifestCheckedTar.Mismatch.class, session::manifestFiles);
        assertTrue(e.getMessage().contains("backup manifest"), e.getMessage());
    }
}
