package io.pgha.api.postgres;

import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RecoveryMinimumsTest {
    @Test
    void theSourcesHigherValuesWinOverLowerOnesAndOverLowerDefaults() {
        Map<String, String> source = Map.of("max_connections", "200", "max_worker_processes", "8",
                "max_wal_senders", "10", "max_prepared_transactions", "5", "max_locks_per_transaction", "128");
        // max_connections configured lower, max_prepared_transactions and max_locks_per_transaction left at lower defaults
        Map<String, String> raised = RecoveryMinimums.raised(Map.of("max_connections", "150", "max_wal_senders", "10"), source);
        assertEquals(Map.of("max_connections", "200", "max_prepared_transactions", "5", "max_locks_per_transaction", "128"), raised);
        assertEquals("max_connections=200, max_prepared_transactions=5, max_locks_per_transaction=128",
                RecoveryMinimums.describe(raised));
    }

    @Test
    void aConfigurationAtLeastAsHighKeepsItsValues() {
        Map<String, String> source = Map.of("max_connections", "200", "max_locks_per_transaction", "64");
        assertTrue(RecoveryMinimums.raised(Map.of("max_connections", "300"), source).isEmpty());
        assertTrue(RecoveryMinimums.raised(Map.of("max_connections", "200"), source).isEmpty());
    }

    @Test
    void aBackupThatRecordedNothingRaisesNothing() {
        assertTrue(RecoveryMinimums.raised(Map.of(), Map.of()).isEmpty());
        assertTrue(RecoveryMinimums.raised(Map.of("max_connections", "many"), Map.of("max_connections", "x")).isEmpty());
    }

    @Test
    void theQueryNamesEverySetting() {
        for (String name : RecoveryMinimums.NAMES) {
            assertTrue(RecoveryMinimums.SQL.contains("'" + name + "'"), name);
        }
        assertEquals(5, RecoveryMinimums.NAMES.size());
    }
}
