package io.pgha.backup.local;

import io.pgha.backup.core.BackupManifest;
import io.pgha.backup.core.Compression;
import io.pgha.local.LocalSecrets;
import io.pgha.local.testing.TestPostgres;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** BASE_BACKUP over pgha's own replication connection, against a real PostgreSQL 15 with SCRAM. */
class ServerBaseBackupTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(10);
    private static TestPostgres pg;

    @BeforeAll
    static void start() throws IOException {
        pg = TestPostgres.start();
    }

    @AfterAll
    static void stop() throws IOException {
        pg.close();
    }

    private static LocalSecrets.Credentials superuser(String password) {
        return new LocalSecrets.Credentials(TestPostgres.SUPERUSER, password, "postgres");
    }

    @Test
    void aWrongPasswordFailsWithTheServersMessage() {
        IOException e = assertThrows(IOException.class,
                () -> ReplicationConnection.open("127.0.0.1", pg.port(), superuser("not-the-password"), "test", TIMEOUT));
        assertTrue(e.getMessage().contains("password authentication failed"), e.getMessage());
    }

    @ParameterizedTest
    @EnumSource(Compression.class)
    void theServersArchiveIsTheDataDirectoryInTheRepositorysCodec(Compression compression) throws IOException {
        byte[] stored;
        ServerBaseBackup backup;
        try (ReplicationConnection c = ReplicationConnection.open("127.0.0.1", pg.port(), superuser(pg.superuserPassword()), "test", TIMEOUT)) {
            backup = ServerBaseBackup.start(c, "test-" + compression.id(), compression, 2);
            assertTrue(backup.manifest().isEmpty(), "the manifest comes after the archive");
            try (InputStream archive = backup.archive()) {
                stored = archive.readAllBytes();
            }
        }
        byte[] tar = compression.decompress(stored);
        List<String> members = members(tar);
        assertTrue(members.contains("backup_label"), members.toString());
        assertTrue(members.contains("global/pg_control"), members.toString());
        assertFalse(members.contains("backup_manifest"), "the manifest is kept apart from the archive");
        if (compression != Compression.NONE) {
            assertTrue(stored.length < tar.length / 2, "compressed by the server: " + stored.length + " of " + tar.length);
        }
        byte[] manifest = backup.manifest().orElseThrow();
        assertFalse(BackupManifest.walRanges(manifest).isEmpty());
        assertTrue(new String(manifest, StandardCharsets.UTF_8).contains("\"Path\": \"backup_label\""));
        assertTrue(backup.bytesDone() > 0 && backup.bytesDone() <= tar.length, backup.bytesDone() + " of " + tar.length);
    }

    /** The member names of a ustar archive. */
    private static List<String> members(byte[] tar) {
        List<String> names = new ArrayList<>();
        int at = 0;
        while (at + 512 <= tar.length && tar[at] != 0) {
            String name = field(tar, at, 100);
            String prefix = field(tar, at + 345, 155);
            long size = Long.parseLong(field(tar, at + 124, 12).strip(), 8);
            names.add(prefix.isEmpty() ? name : prefix + "/" + name);
            at += 512 + (int) ((size + 511) / 512 * 512);
        }
        return names;
    }

    private static String field(byte[] tar, int offset, int length) {
        int end = offset;
        while (end < offset + length && tar[end] != 0) {
            end++;
        }
        return new String(tar, offset, end - offset, StandardCharsets.US_ASCII);
    }
}
