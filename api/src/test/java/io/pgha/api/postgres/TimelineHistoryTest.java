package io.pgha.api.postgres;

import org.junit.jupiter.api.Test;

import java.util.OptionalLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class TimelineHistoryTest {
    /** What PostgreSQL 15 wrote into pg_wal/00000003.history after two promotions. */
    private static final String THIRD = "1\t0/3000148\tno recovery target specified\n"
            + "\n"
            + "2\t1/A0000028\tno recovery target specified\n";

    @Test
    void eachLineIsAnAncestorAndWhereTheNextTimelineForkedOffIt() {
        TimelineHistory h = TimelineHistory.parse(THIRD);
        assertEquals(2, h.forks().size());
        assertEquals(new TimelineHistory.Fork(1, 0x3000148L, "no recovery target specified"), h.forks().get(0));
        assertEquals(OptionalLong.of(0x3000148L), h.forkPoint(1));
        assertEquals(OptionalLong.of((1L << 32) | 0xA0000028L), h.forkPoint(2));
    }

    @Test
    void aTimelineThatIsNoAncestorHasNoForkPoint() {
        TimelineHistory h = TimelineHistory.parse(THIRD);
        assertEquals(OptionalLong.empty(), h.forkPoint(3));
        assertEquals(OptionalLong.empty(), h.forkPoint(4));
    }

    @Test
    void commentsBlankLinesAndMissingReasonsAreAccepted() {
        TimelineHistory h = TimelineHistory.parse("# written by hand\n\n1\t0/5000000\n");
        assertEquals(OptionalLong.of(0x5000000L), h.forkPoint(1));
        assertEquals("", h.forks().get(0).reason());
    }

    @Test
    void garbageIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> TimelineHistory.parse("1\tnot-an-lsn\treason\n"));
        assertThrows(IllegalArgumentException.class, () -> TimelineHistory.parse("one\n"));
    }

    @Test
    void fileNamesAreEightHexDigits() {
        assertEquals("pg_wal/00000002.history", TimelineHistory.file(2));
        assertEquals("pg_wal/0000001A.history", TimelineHistory.file(26));
    }
}
