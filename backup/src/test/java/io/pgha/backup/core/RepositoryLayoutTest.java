package io.pgha.backup.core;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

class RepositoryLayoutTest {
    @Test
    void walKeysRoundTripUnderTheClusterPrefixAndTimeline() {
        RepositoryLayout layout = new RepositoryLayout("shop", Compression.ZSTD);
        WalFileName f = WalFileName.parse("000000020000000000000005");
        String key = layout.walKey(f);
        assertEquals("shop/wal/00000002/000000020000000000000005.zst", key);
        assertTrue(key.startsWith(layout.walTimelinePrefix(2)));
        assertEquals(f, layout.walFileOf(key).orElseThrow());
        // whatever compression wrote a file, a reader finds it
        assertEquals(f, layout.walFileOf("shop/wal/00000002/000000020000000000000005").orElseThrow());
        assertEquals(f, layout.walFileOf("shop/wal/00000002/000000020000000000000005.lz4").orElseThrow());
        assertTrue(layout.walFileOf("shop/wal/00000002/000000020000000000000005.gz").isEmpty());
        assertEquals(java.util.List.of("shop/wal/00000002/000000020000000000000005.lz4",
                        "shop/wal/00000002/000000020000000000000005.zst", "shop/wal/00000002/000000020000000000000005"),
                new RepositoryLayout("shop", Compression.LZ4).walKeys(f));
    }

    @Test
    void compressionsByNameAndBySuffix() {
        assertEquals(Compression.LZ4, Compression.ofId("lz4"));
        assertEquals(Compression.NONE, Compression.ofId("none"));
        assertThrows(IllegalArgumentException.class, () -> Compression.ofId("gzip"));
        assertEquals(Compression.ZSTD, Compression.ofFileName("base.tar.zst"));
        assertEquals(Compression.NONE, Compression.ofFileName("000000010000000000000001"));
    }

    @Test
    void everyCodecRoundTrips() throws Exception {
        byte[] content = "a WAL segment, a WAL segment, a WAL segment".repeat(1000).getBytes();
        for (Compression c : Compression.values()) {
            byte[] stored = c.compress(content);
            assertArrayEquals(content, c.decompress(stored), c.id());
            assertEquals(c != Compression.NONE, stored.length < content.length / 10, c.id());
        }
    }

    @Test
    void refusesPrefixesThatCouldLeaveTheRepository() {
        assertEquals("team/shop/wal/", new RepositoryLayout("team/shop", Compression.ZSTD).walPrefix());
        assertThrows(IllegalArgumentException.class, () -> new RepositoryLayout("../x", Compression.ZSTD));
        assertThrows(IllegalArgumentException.class, () -> new RepositoryLayout("a/../b", Compression.ZSTD));
        assertThrows(IllegalArgumentException.class, () -> new RepositoryLayout("/a", Compression.ZSTD));
        assertThrows(IllegalArgumentException.class, () -> new RepositoryLayout("a/", Compression.ZSTD));
    }

    @Test
    void baseBackupKeysLiveUnderTheBackupsName() {
        RepositoryLayout layout = new RepositoryLayout("shop", Compression.ZSTD);
        String name = "shop-20261204t223000z";
        assertEquals("shop/base/shop-20261204t223000z/base.tar.zst", layout.baseTarKey(name));
        assertEquals("shop/base/shop-20261204t223000z/backup_manifest.zst", layout.manifestKey(name));
        assertEquals("shop/base/shop-20261204t223000z/backup.json", layout.backupInfoKey(name));
        assertTrue(layout.baseTarKey(name).startsWith(layout.backupPrefix(name)));
        assertTrue(layout.backupPrefix(name).startsWith(layout.basePrefix()));
        assertEquals("shop/wal/", layout.walPrefix());
        assertTrue(layout.walKey(WalFileName.parse("000000020000000000000005")).startsWith(layout.walPrefix()));
    }

    @Test
    void onlyABackupJsonMarksACompletedBackup() {
        RepositoryLayout layout = new RepositoryLayout("shop", Compression.ZSTD);
        assertEquals("shop-20261204t223000z", layout.completedBackupOf("shop/base/shop-20261204t223000z/backup.json").orElseThrow());
        assertTrue(layout.completedBackupOf("shop/base/shop-20261204t223000z/base.tar.zst").isEmpty());
        assertTrue(layout.completedBackupOf("other/base/shop-20261204t223000z/backup.json").isEmpty());
        assertTrue(layout.completedBackupOf("shop/base/a/b/backup.json").isEmpty());
    }

    @Test
    void refusesBackupNamesThatCouldLeaveTheirDirectory() {
        RepositoryLayout layout = new RepositoryLayout("shop", Compression.ZSTD);
        assertThrows(IllegalArgumentException.class, () -> layout.baseTarKey("../wal"));
        assertThrows(IllegalArgumentException.class, () -> layout.backupInfoKey("a/b"));
        assertThrows(IllegalArgumentException.class, () -> layout.manifestKey(null));
    }
}
