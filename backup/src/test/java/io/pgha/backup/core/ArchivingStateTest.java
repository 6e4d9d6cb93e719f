package io.pgha.backup.core;

import io.pgha.api.v1.Condition;
import io.pgha.api.v1.ConditionTypes;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.*;

class ArchivingStateTest {
    private static final Instant T0 = Instant.parse("2026-12-04T22:00:00Z");

    @Test
    void trueUntilAPushFailsAndTrueAgainAfterTheNextSuccess() {
        Condition c = ArchivingState.NONE.condition();
        assertEquals(ConditionTypes.CONTINUOUS_ARCHIVING, c.type);
        assertEquals(Condition.TRUE, c.status);
        assertEquals(ArchivingState.REASON_WAITING, c.reason);

        ArchivingState s = ArchivingState.NONE.archived("000000010000000000000001", T0);
        assertEquals(ArchivingState.REASON_ARCHIVING, s.condition().reason);
        assertEquals(s.condition().message, s.archived("000000010000000000000002", T0.plusSeconds(1)).condition().message,
                "the message does not change with every push");

        s = s.failed("000000010000000000000002", T0.plusSeconds(1), "could not archive 000000010000000000000002: disk full");
        assertTrue(s.failing());
        assertEquals(Condition.FALSE, s.condition().status);
        assertEquals(ArchivingState.REASON_PUSH_FAILING, s.condition().reason);
        assertEquals("could not archive 000000010000000000000002: disk full", s.condition().message);

        s = s.archived("000000010000000000000002", T0.plusSeconds(2));
        assertFalse(s.failing());
        assertEquals(Condition.TRUE, s.condition().status);
    }

    @Test
    void anUnwritableRepositoryWinsOverEverything() {
        ArchivingState s = ArchivingState.NONE.archived("000000010000000000000001", T0)
                .probed(Optional.of("directory /srv/b: cannot write: Permission denied"));
        assertEquals(Condition.FALSE, s.condition().status);
        assertEquals(ArchivingState.REASON_REPOSITORY_UNWRITABLE, s.condition().reason);
        assertEquals(Condition.TRUE, s.probed(Optional.empty()).condition().status);
    }

    @Test
    void pendingIsTheMostAnyInstanceHasWaiting() {
        assertEquals(0, ArchivingState.pendingSegments(List.of()));
        assertEquals(7, ArchivingState.pendingSegments(List.of(2L, 7L, 0L)));
    }
}
