package io.pgha.api;

import org.junit.jupiter.api.Test;

import java.util.OptionalInt;

import static org.junit.jupiter.api.Assertions.assertEquals;

class ClusterNamesTest {
    @Test
    void instanceNamesRoundTripThroughTheirSerial() {
        assertEquals("pg-2", ClusterNames.instance("pg", 2));
        assertEquals(OptionalInt.of(12), ClusterNames.serialOf("my-db", "my-db-12"));
        assertEquals(OptionalInt.empty(), ClusterNames.serialOf("pg", "other-1"));
        assertEquals(OptionalInt.empty(), ClusterNames.serialOf("pg", "pg-router"));
        assertEquals(OptionalInt.empty(), ClusterNames.serialOf("pg", "pg-0"));
    }

    @Test
    void slotNamesAreValidReplicationSlotIdentifiers() {
        String slot = ClusterNames.replicationSlot("my-db-3");
        assertEquals("pgha_my_db_3", slot);
        // PostgreSQL accepts only lower case letters, digits and underscores in slot names
        assertEquals(true, slot.matches("[a-z0-9_]+"));
    }

    @Test
    void derivedObjectNamesFollowOneScheme() {
        assertEquals("pg-rw", ClusterNames.readWriteService("pg"));
        assertEquals("pg-ro", ClusterNames.readOnlyService("pg"));
        assertEquals("pg-router", ClusterNames.routerService("pg"));
        assertEquals("pg-superuser", ClusterNames.superuserSecret("pg"));
        assertEquals("pg-app", ClusterNames.appSecret("pg"));
        assertEquals("pg-wal-push", ClusterNames.walPushSecret("pg"));
        assertEquals("pg-config", ClusterNames.configMap("pg"));
        assertEquals("pg-monitor", ClusterNames.monitorLease("pg"));
        assertEquals("pg-instance", ClusterNames.instanceServiceAccount("pg"));
    }
}
