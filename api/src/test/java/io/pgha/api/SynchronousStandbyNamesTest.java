package io.pgha.api;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SynchronousStandbyNamesTest {
    @Test
    void whatTheProvisionerWritesReadsBackAsTheSameQuorum() {
        String written = SynchronousStandbyNames.quorum(1, List.of("pg-1", "pg-2", "pg-3"));
        assertEquals("ANY 1 (\"pg-1\", \"pg-2\", \"pg-3\")", written);
        assertEquals(Optional.of(new SynchronousStandbyNames.Setting(true, 1, List.of("pg-1", "pg-2", "pg-3"))),
                SynchronousStandbyNames.parse(written));
    }

    @Test
    void emptyIsAsynchronous() {
        assertEquals(Optional.empty(), SynchronousStandbyNames.parse(""));
        assertEquals(Optional.empty(), SynchronousStandbyNames.parse("  "));
        assertEquals(Optional.empty(), SynchronousStandbyNames.parse(null));
    }

    @Test
    void theOtherFormsPostgresqlAccepts() {
        assertEquals(new SynchronousStandbyNames.Setting(false, 2, List.of("a", "b", "c")),
                SynchronousStandbyNames.parse("FIRST 2 (a, b, c)").orElseThrow());
        assertEquals(new SynchronousStandbyNames.Setting(false, 2, List.of("a", "b")),
                SynchronousStandbyNames.parse("2(a,b)").orElseThrow());
        assertEquals(new SynchronousStandbyNames.Setting(false, 1, List.of("s1", "s_2")),
                SynchronousStandbyNames.parse("S1, s_2").orElseThrow(), "a plain list is FIRST 1; names ignore case");
        assertEquals(new SynchronousStandbyNames.Setting(true, 1, List.of("first", "my \"x\"")),
                SynchronousStandbyNames.parse("any 1 (\"FIRST\", \"my \"\"x\"\"\")").orElseThrow());
        assertTrue(SynchronousStandbyNames.parse("ANY 1 (*)").orElseThrow().anyStandby());
    }

    @Test
    void malformedValuesAreRefusedNamingTheProblem() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> SynchronousStandbyNames.parse("ANY (a)"))
                .getMessage().contains("a number must follow ANY"));
        assertThrows(IllegalArgumentException.class, () -> SynchronousStandbyNames.parse("ANY 1 (a"));
        assertThrows(IllegalArgumentException.class, () -> SynchronousStandbyNames.parse("pg-1"));
        assertThrows(IllegalArgumentException.class, () -> SynchronousStandbyNames.parse("ANY 1 (\"a)"));
    }
}
