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
        assertTrue(layout.walFileOf("shop/wal/00000002/000000020000000000000005").isEmpty());
    }

    @Test
    void refusesPrefixesThatAreNotClusterNames() {
        assertThrows(IllegalArgumentException.class, () -> new RepositoryLayout("../x", Compression.ZSTD));
        assertThrows(IllegalArgumentException.class, () -> new RepositoryLayout("a/b", Compression.ZSTD));
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
