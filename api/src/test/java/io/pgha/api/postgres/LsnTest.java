package io.pgha.api.postgres;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LsnTest {
    @Test
    void parsesAndPrintsLikePostgres() {
        Lsn lsn = Lsn.parse("16/B374D848");
        assertEquals(0x16B374D848L, lsn.value());
        assertEquals("16/B374D848", lsn.toString());
        assertEquals("0/0", Lsn.ZERO.toString());
        assertEquals(Lsn.parse("0/3000060"), Lsn.parse("0/03000060"));
        assertEquals("0/3000060", Lsn.parse("0/3000060").toString());
    }

    @Test
    void ordersAsUnsignedAndSubtracts() {
        Lsn low = Lsn.parse("0/FFFFFFFF");
        Lsn high = Lsn.parse("1/0");
        assertTrue(high.isAfter(low));
        assertEquals(1, high.minus(low));
        assertEquals(-1, low.minus(high));
        Lsn top = Lsn.parse("FFFFFFFF/FFFFFFFF");
        assertTrue(top.isAfter(high), "the top half counts as unsigned");
        assertEquals(high, Lsn.max(low, high));
        assertEquals(low, Lsn.max(low, null));
        assertNull(Lsn.max(null, null));
        assertTrue(high.isAtLeast(Lsn.parse("1/0")));
    }

    @Test
    void rejectsWhatIsNotAnLsn() {
        for (String bad : new String[]{"", "16", "/1", "1/", "G/1", "1/2/3", "123456789/0"}) {
            assertThrows(IllegalArgumentException.class, () -> Lsn.parse(bad), bad);
        }
        assertThrows(IllegalArgumentException.class, () -> Lsn.parse(null));
        assertNull(Lsn.parseNullable(null));
    }
}
