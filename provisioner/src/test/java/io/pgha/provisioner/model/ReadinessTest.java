package io.pgha.provisioner.model;

import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ReadinessTest {
    private static InstanceFacts primary(Set<String> streaming, Set<String> slots) {
        return new InstanceFacts("pg-1", 10L, true, false, streaming, slots, Map.of(), null);
    }

    private static InstanceFacts standby(String name) {
        return new InstanceFacts(name, 11L, true, true, Set.of(), Set.of(), Map.of(), null);
    }

    private static Map<String, InstanceFacts> facts(InstanceFacts... all) {
        Map<String, InstanceFacts> m = new LinkedHashMap<>();
        for (InstanceFacts f : all) {
            m.put(f.name(), f);
        }
        return m;
    }

    @Test
    void readyWhenEveryStandbyStreamsThroughItsSlot() {
        Readiness r = Readiness.evaluate(3, "pg-1", facts(primary(Set.of("pg-2", "pg-3"), Set.of("pgha_pg_2", "pgha_pg_3")),
                standby("pg-2"), standby("pg-3")));
        assertTrue(r.ready(), r.message());
        assertEquals("3 instances ready: pg-1 is primary, 2 standbys streaming", r.message());
    }

    @Test
    void streamingWithoutTheSlotIsNotReady() {
        Readiness r = Readiness.evaluate(2, "pg-1", facts(primary(Set.of("pg-2"), Set.of()), standby("pg-2")));
        assertFalse(r.ready());
        assertEquals("pg-2 is not streaming through its slot yet", r.message());
    }

    @Test
    void missingOrDownInstancesAreNamed() {
        Readiness r = Readiness.evaluate(3, "pg-1", facts(InstanceFacts.down("pg-1"), standby("pg-2")));
        assertFalse(r.ready());
        assertTrue(r.message().contains("2 of 3 instances exist"), r.message());
        assertTrue(r.message().contains("primary pg-1 is not reachable"), r.message());
    }

    @Test
    void primaryInRecoveryIsNotReady() {
        Readiness r = Readiness.evaluate(1, "pg-1", facts(new InstanceFacts("pg-1", 1L, true, true, Set.of(), Set.of(), Map.of(), null)));
        assertFalse(r.ready());
    }
}
