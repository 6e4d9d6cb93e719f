package io.pgha.backup.core;

import io.pgha.backup.local.ReplicationConnection;
import io.pgha.backup.local.ServerBaseBackup;
import io.pgha.local.LocalSecrets;
import io.pgha.local.testing.TestPostgres;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A real PostgreSQL 15 base backup (BASE_BACKUP's tar and backup_manifest) read through
 * {@link ManifestCheckedTar}: it matches whatever the read sizes, and each kind of damage is named.
 */
class ManifestCheckedTarTest {
    private static byte[] tar;
    private static byte[] manifest;

    @BeforeAll
    static void takeABackup() throws IOException {
        try (TestPostgres pg = TestPostgres.start();
             ReplicationConnection c = ReplicationConnection.open("127.0.0.1", pg.port(),
                     new LocalSecrets.Credentials(TestPostgres.SUPERUSER, pg.superuserPassword(), "postgres"), "test",
                     Duration.ofSeconds(10))) {
            ServerBaseBackup backup = ServerBaseBackup.start(c, "checked", Compression.NONE, 1);
            try (InputStream archive = backup.archive()) {
                tar = archive.readAllBytes();
            }
            manifest = backup.manifest().orElseThrow();
        }
    }

    @Test
    void theServersTarMatchesItsManifestReadInAnyPieces() {
        Map<String, BackupManifest.File> files = BackupManifest.files(manifest);
        assertTrue(files.containsKey("global/pg_control") && files.get("PG_VERSION").algorithm().equals("CRC32C"), files.keySet().toString());
        for (int piece : new int[]{1, 7, 511, 512, 513, 64 * 1024, tar.length}) {
            assertDoesNotThrow(() -> read(tar, files, piece), "read " + piece + " bytes at a time");
        }
    }

    @Test
    void aChangedByteIsNamedWithItsFile() {
        byte[] damaged = tar.clone();
        damaged[dataOffset(damaged, "PG_VERSION")] ^= 1;
        ManifestCheckedTar.Mismatch m = assertThrows(ManifestCheckedTar.Mismatch.class,
                () -> read(damaged, BackupManifest.files(manifest), 64 * 1024));
        assertTrue(m.getMessage().startsWith("\"PG_VERSION\" has CRC32C checksum "), m.getMessage());
    }

    @Test
    void aFileMissingFromEitherSideIsNamed() {
        Map<String, BackupManifest.File> files = new HashMap<>(BackupManifest.files(manifest));
        files.remove("PG_VERSION");
        files.put("base/1/99999", new BackupManifest.File("base/1/99999", 8192, "CRC32C", "00000000"));
        ManifestCheckedTar.Mismatch m = assertThrows(ManifestCheckedTar.Mismatch.class, () -> read(tar, files, 64 * 1024));
        assertTrue(m.getMessage().contains("\"PG_VERSION\" is in the tar but not in the backup_manifest"), m.getMessage());
        assertTrue(m.getMessage().contains("\"base/1/99999\" is in the backup_manifest but not in the tar"), m.getMessage());
    }

    @Test
    void aWrongSizeIsNamed() {
        Map<String, BackupManifest.File> files = new HashMap<>(BackupManifest.files(manifest));
        BackupManifest.File v = files.get("PG_VERSION");
        files.put("PG_VERSION", new BackupManifest.File(v.path(), v.size() + 1, v.algorithm(), v.checksum()));
        ManifestCheckedTar.Mismatch m = assertThrows(ManifestCheckedTar.Mismatch.class, () -> read(tar, files, 64 * 1024));
        assertEquals("\"PG_VERSION\" has " + v.size() + " bytes, the backup_manifest says " + (v.size() + 1), m.getMessage());
    }

    @Test
    void aTarCutShortIsNamed() {
        int cut = dataOffset(tar, "global/pg_control") + 100;
        ManifestCheckedTar.Mismatch m = assertThrows(ManifestCheckedTar.Mismatch.class,
                () -> read(Arrays.copyOf(tar, cut), BackupManifest.files(manifest), 64 * 1024));
        assertTrue(m.getMessage().startsWith("the tar ends inside \"global/pg_control\""), m.getMessage());
    }

    @Test
    void aChangedManifestIsRefusedByItsOwnChecksum() {
        String text = new String(manifest, StandardCharsets.UTF_8);
        byte[] changed = text.replaceFirst("\"Size\": \\d+", "\"Size\": 1").getBytes(StandardCharsets.UTF_8);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> BackupManifest.files(changed));
        assertTrue(e.getMessage().startsWith("the backup manifest's own checksum does not match"), e.getMessage());
    }

    /** Reads {@code bytes} through the check, {@code piece} bytes per read, and finishes it. */
    private static void read(byte[] bytes, Map<String, BackupManifest.File> files, int piece) throws IOException,
            ManifestCheckedTar.Mismatch {
        ManifestCheckedTar checked = new ManifestCheckedTar(new ByteArrayInputStream(bytes), files);
        byte[] buffer = new byte[piece];
        while (checked.read(buffer, 0, piece) >= 0) {
            // the check sees the bytes as they go by
        }
        checked.finish();
    }

    /** Where the data of member {@code name} starts in {@code tar}. */
    private static int dataOffset(byte[] tar, String name) {
        int at = 0;
        while (at + 512 <= tar.length && tar[at] != 0) {
            int end = at;
            while (end < at + 100 && tar[end] != 0) {
                end++;
            }
            String member = new String(tar, at, end - at, StandardCharsets.US_ASCII);
            long size = Long.parseLong(new String(tar, at + 124, 11, StandardCharsets.US_ASCII).strip(), 8);
            if (member.equals(name)) {
                return at + 512;
            }
            at += 512 + (int) ((size + 511) / 512 * 512);
        }
        throw new AssertionError(name + " is not in the tar");
    }
}
