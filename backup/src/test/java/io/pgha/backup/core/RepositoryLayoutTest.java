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
}
