package io.pgha.monitor.core;

import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;

class MaintenanceHoldTest {
    private static final Instant NOW = Instant.parse("2026-12-05T05:00:00Z");

    @Test
    void onlyHoldsThatEndAfterNowHold() {
        Map<String, String> until = new HashMap<>();
        until.put("pg-1", "2026-12-05T05:00:30Z");
        until.put("pg-2", "2026-12-05T04:59:59Z");
        until.put("pg-3", null);
        assertEquals(Set.of("pg-1"), MaintenanceHold.unexpired(until, NOW));
        // the very instant it ends, it no longer holds
        assertEquals(Set.of(), MaintenanceHold.unexpired(Map.of("pg-1", "2026-12-05T05:00:00Z"), NOW));
    }

    @Test
    void aGarbledHoldHoldsNothing() {
        assertEquals(Set.of(), MaintenanceHold.unexpired(Map.of("pg-1", "tomorrow"), NOW));
    }
}
