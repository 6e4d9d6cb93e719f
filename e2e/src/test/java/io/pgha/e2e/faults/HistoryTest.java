package io.pgha.e2e.faults;

import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

class HistoryTest {
    @Test
    void readsEachAncestorsSwitchpoint() {
        String history = "1\t0/3000000\tno recovery target specified\n\n2\t1/A0000D8\tno recovery target specified\n";
        assertEquals(Map.of(1, 0x3000000L, 2, 0x10A0000D8L), History.switchpoints(history));
        assertEquals("1/A0000D8", History.lsn(History.parseLsn("1/A0000D8")));
    }
}
