package io.pgha.backup.core;

import org.junit.jupiter.api.Test;

import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class WalChainTest {
    private static final long MIB16 = 16L * 1024 * 1024;

    private static WalFileName w(String name) {
        return WalFileName.parse(name);
    }

    @Test
    void aCompleteChainHasNoGapAcrossALogBoundary() {
        Set<String> stored = Set.of("0000000100000000000000FE", "0000000100000000000000FF", "000000010000000100000000",
                "000000010000000100000001");
        assertTrue(WalChain.firstGap(w("0000000100000000000000FE"), w("0000000100000000000000FF"), w("000000010000000100000001"),
                MIB16, stored).isEmpty());
        assertEquals(4, WalChain.segments(w("0000000100000000000000FE"), w("0000000100000000000000FF"),
                w("000000010000000100000001"), MIB16).size());
    }

    @Test
    void namesTheFirstMissingSegmentInsideOrAfterTheBackup() {
        WalChain.Gap inside = WalChain.firstGap(w("000000010000000000000002"), w("000000010000000000000004"),
                w("000000010000000000000006"), MIB16, Set.of("000000010000000000000002", "000000010000000000000004",
                        "000000010000000000000005", "000000010000000000000006")).orElseThrow();
        assertEquals("000000010000000000000003", inside.segment().name());
        assertTrue(inside.inBackup());
        assertTrue(inside.describe("pg-1").contains("000000010000000000000003 of backup pg-1's range"), inside.describe("pg-1"));

        WalChain.Gap after = WalChain.firstGap(w("000000010000000000000002"), w("000000010000000000000003"),
                w("000000010000000000000006"), MIB16, Set.of("000000010000000000000002", "000000010000000000000003",
                        "000000010000000000000004", "000000010000000000000006")).orElseThrow();
        assertEquals("000000010000000000000005", after.segment().name());
        assertFalse(after.inBackup());
    }

    @Test
    void theNewestOnAnotherTimelineDoesNotExtendTheChain() {
        assertEquals(2, WalChain.segments(w("000000010000000000000002"), w("000000010000000000000003"),
                w("000000020000000000000009"), MIB16).size());
    }
}
