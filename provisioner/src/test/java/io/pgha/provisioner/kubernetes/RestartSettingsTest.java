package io.pgha.provisioner.kubernetes;

import io.pgha.provisioner.model.RestartSettings;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RestartSettingsTest {
    @Test
    void onlySettingsThatNeedARestartAreKept() {
        Map<String, String> restart = RestartSettings.of(Map.of("max_connections", "200", "shared_buffers", "128MB",
                "work_mem", "4MB", "hot_standby_feedback", "on"));
        assertEquals(Map.of("max_connections", "200", "shared_buffers", "128MB"), restart);
        assertEquals(restart, RestartSettings.parse(RestartSettings.render(restart)));
    }

    @Test
    void loweringWhatStandbysCopyRestartsThePrimaryFirst() {
        Map<String, String> running = Map.of("max_connections", "200", "max_wal_senders", "10", "shared_buffers", "128MB");
        assertTrue(RestartSettings.primaryFirst(running, Map.of("max_connections", "100", "max_wal_senders", "10")));
        assertTrue(RestartSettings.primaryFirst(running, Map.of("max_connections", "200", "max_wal_senders", "8")));
        assertFalse(RestartSettings.primaryFirst(running, Map.of("max_connections", "300", "max_wal_senders", "10")));
        assertFalse(RestartSettings.primaryFirst(running, Map.of("max_connections", "200", "shared_buffers", "64MB")),
                "shared_buffers may differ between primary and standby");
        assertFalse(RestartSettings.primaryFirst(Map.of(), Map.of("max_connections", "100")), "nothing recorded: standbys first");
    }
}
