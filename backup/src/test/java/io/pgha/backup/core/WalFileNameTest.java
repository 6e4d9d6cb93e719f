package io.pgha.backup.core;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class WalFileNameTest {
    @Test
    void parsesEveryKindPostgresArchives() {
        WalFileName seg = WalFileName.parse("000000020000000A000000FF");
        assertEquals(WalFileName.Kind.SEGMENT, seg.kind());
        assertEquals(2, seg.timeline());
        assertEquals(0xA, seg.log());
        assertEquals(0xFF, seg.segment());
        assertEquals(WalFileName.Kind.PARTIAL, WalFileName.parse("000000020000000A000000FF.partial").kind());
        assertEquals(WalFileName.Kind.BACKUP_LABEL, WalFileName.parse("000000010000000000000002.00000028.backup").kind());
        WalFileName history = WalFileName.parse("00000003.history");
        assertEquals(WalFileName.Kind.HISTORY, history.kind());
        assertEquals("00000003", history.timelineHex());
    }

    @Test
    void refusesAnythingElse() {
        for (String bad : List.of("", "../etc/passwd", "000000010000000000000001x", "00000001000000000000001",
                "000000010000000000000001.zst", "0000000g0000000000000001", "00000001.History")) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> WalFileName.parse(bad));
            assertTrue(e.getMessage().contains(bad), e.getMessage());
        }
    }

    @Test
    void ordersAcrossLogBoundaries() {
        assertTrue(WalFileName.parse("000000010000000100000000").compareTo(WalFileName.parse("0000000100000000000000FF")) > 0);
        assertTrue(WalFileName.parse("000000020000000000000001").compareTo(WalFileName.parse("000000010000000500000000")) > 0);
    }
}
