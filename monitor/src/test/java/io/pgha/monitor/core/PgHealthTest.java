package io.pgha.monitor.core;

import io.pgha.api.postgres.Lsn;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Reading the answers of {@link PgHealth}'s statements (the statements themselves: {@code PgHealthPostgresTest}). */
class PgHealthTest {
    @Test
    void instanceFiguresAndEverySessionStateAtZeroWhenAbsent() {
        PgHealth.Instance h = PgHealth.instance("[{\"metric\":\"sessions\",\"key\":\"active\",\"value\":3},"
                + "{\"metric\":\"sessions\",\"key\":\"idle in transaction\",\"value\":1},"
                + "{\"metric\":\"oldest_transaction_age\",\"key\":null,\"value\":12.5},"
                + "{\"metric\":\"xid_age\",\"key\":null,\"value\":1234},"
                + "{\"metric\":\"database_size\",\"key\":\"app\",\"value\":7500000},"
                + "{\"metric\":\"deadlocks\",\"key\":null,\"value\":2},{\"metric\":\"conflicts\",\"key\":null,\"value\":0},"
                + "{\"metric\":\"checkpoints\",\"key\":\"timed\",\"value\":4},{\"metric\":\"checkpoints\",\"key\":\"requested\",\"value\":6},"
                + "{\"metric\":\"postmaster_start\",\"key\":null,\"value\":1764900000.25},"
                + "{\"metric\":\"server_version\",\"key\":null,\"value\":150010}]");
        assertEquals(3L, h.sessions().get("active"));
        assertEquals(1L, h.sessions().get("idle in transaction"));
        assertEquals(0L, h.sessions().get("idle"));
        assertEquals(PgHealth.SESSION_STATES.size(), h.sessions().size());
        assertEquals(12.5, h.oldestTransactionAgeSeconds());
        assertEquals(1234, h.xidAge());
        assertEquals(7_500_000L, h.databaseSizeBytes().get("app"));
        assertEquals(2, h.deadlocks());
        assertEquals(4, h.checkpointsTimed());
        assertEquals(6, h.checkpointsRequested());
        assertEquals(150010, h.serverVersionNum());
    }

    @Test
    void primaryFiguresWithSlotsThatReserveNothingAndANeverUsedArchiver() {
        PgHealth.Primary p = PgHealth.primary("{\"current_lsn\":\"0/3000148\",\"slots\":[{\"name\":\"pgha_pg_2\",\"active\":true,"
                + "\"wal_status\":\"reserved\",\"safe_wal_size\":1048576,\"retained\":328},"
                + "{\"name\":\"pgha_pg_3\",\"active\":false,\"wal_status\":null,\"safe_wal_size\":null,\"retained\":null}],"
                + "\"archiver\":{\"archived\":0,\"failed\":3,\"last_archive_age\":null},"
                + "\"replicas\":[{\"name\":\"pg-2\",\"sync_state\":\"quorum\",\"flush_lsn\":\"0/3000148\",\"reply_age\":0.41}],"
                + "\"synchronous_standby_names\":\"ANY 1 (\\\"pg-1\\\", \\\"pg-2\\\")\"}");
        assertEquals(Lsn.parse("0/3000148"), p.currentLsn());
        assertEquals(new PgHealth.Slot("pgha_pg_2", true, "reserved", 1_048_576L, 328L), p.slots().get(0));
        assertEquals(new PgHealth.Slot("pgha_pg_3", false, null, null, null), p.slots().get(1));
        assertEquals(3, p.archiver().failed());
        assertNull(p.archiver().lastArchiveAgeSeconds());
        assertEquals(0.41, p.replicas().get(0).replyAgeSeconds());
        assertEquals(1, QuorumConfirmation.required(p.synchronousStandbyNames()));
        assertTrue(PgHealth.primary(null) == null);
    }
}
