package io.pgha.monitor.core;

import io.pgha.api.ClusterNames;
import io.pgha.monitor.testing.LocalCluster;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicReference;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link PgHealth}'s statements on real PostgreSQL 15: a two-instance cluster with a synchronous
 * quorum of one (pg-1 primary, pg-2 standby).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PgHealthPostgresTest {
    private LocalCluster cluster;

    @BeforeAll
    void start() throws Exception {
        cluster = LocalCluster.start(2, true, 3, 1000);
    }

    @AfterAll
    void stop() throws Exception {
        cluster.close();
    }

    @Test
    void instanceFiguresOnThePrimaryAndTheStandby() throws Exception {
        try (Connection open = cluster.connect("pg-1"); Statement s = open.createStatement()) {
            open.setAutoCommit(false);
            s.execute("SELECT txid_current()");
            Instant began = Instant.now();
            await().atMost(Duration.ofSeconds(10)).until(() -> Duration.between(began, Instant.now()).toMillis() > 1200);
            PgHealth.Instance h = PgHealth.instance(cluster.query("pg-1", PgHealth.INSTANCE_SQL));
            assertTrue(h.oldestTransactionAgeSeconds() >= 1.2, "oldest transaction " + h.oldestTransactionAgeSeconds());
            assertTrue(h.sessions().get("idle in transaction") >= 1, h.sessions().toString());
            assertTrue(h.sessions().get("active") >= 1, h.sessions().toString());
            long xid = Long.parseLong(cluster.query("pg-1", "SELECT max(greatest(age(datfrozenxid), mxid_age(datminmxid))) FROM pg_database"));
            assertTrue(h.xidAge() > 0 && Math.abs(h.xidAge() - xid) <= 2, h.xidAge() + " vs " + xid);
            assertTrue(h.databaseSizeBytes().get("postgres") > 1_000_000, h.databaseSizeBytes().toString());
            assertTrue(h.serverVersionNum() >= 150000 && h.serverVersionNum() < 160000);
            assertTrue(Math.abs(h.postmasterStartSeconds() - Instant.now().getEpochSecond()) < 600);
            open.rollback();
        }
        // the background workers' and the walsender's transactions are no client's
        PgHealth.Instance idle = PgHealth.instance(cluster.query("pg-1", PgHealth.INSTANCE_SQL));
        assertEquals(0.0, idle.oldestTransactionAgeSeconds());
        PgHealth.Instance standby = PgHealth.instance(cluster.query("pg-2", PgHealth.INSTANCE_SQL));
        assertTrue(standby.xidAge() > 0);
        assertNull(PgHealth.primary(cluster.query("pg-2", PgHealth.PRIMARY_SQL)), "a standby reads no primary figures");
    }

    /**
     * A standby whose WAL receiver is stopped (SIGSTOP) stays 'quorum' in pg_stat_replication, but
     * no longer confirms; meanwhile its slot holds the WAL the primary writes.
     */
    @Test
    void aStoppedWalReceiverStaysQuorumButDoesNotConfirmAndItsSlotRetainsWal() throws Exception {
        QuorumConfirmation quorum = new QuorumConfirmation();
        PgHealth.Primary first = PgHealth.primary(cluster.query("pg-1", PgHealth.PRIMARY_SQL));
        assertEquals(1, QuorumConfirmation.required(first.synchronousStandbyNames()));
        assertEquals(1, quorum.confirming("pg-1", first));
        PgHealth.Slot slot = first.slots().stream().filter(x -> x.name().equals(ClusterNames.replicationSlot("pg-2")))
                .findFirst().orElseThrow();
        assertTrue(slot.active());
        assertEquals("reserved", slot.walStatus());

        String receiver = cluster.query("pg-2", "SELECT pid FROM pg_stat_wal_receiver");
        signal("STOP", receiver);
        try (Connection c = cluster.connect("pg-1"); Statement s = c.createStatement()) {
            // committed locally: the quorum would wait for the stopped standby
            s.execute("SET synchronous_commit = local");
            s.execute("CREATE TABLE filler AS SELECT g, repeat('x', 200) AS pad FROM generate_series(1, 20000) g");
            AtomicReference<PgHealth.Primary> last = new AtomicReference<>();
            await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(500)).until(() -> {
                s.execute("INSERT INTO filler SELECT g, 'y' FROM generate_series(1, 100) g");
                last.set(PgHealth.primary(cluster.query("pg-1", PgHealth.PRIMARY_SQL)));
                return quorum.confirming("pg-1", last.get()) == 0;
            });
            assertEquals("quorum", last.get().replicas().get(0).syncState(), "PostgreSQL still lists it as quorum");
            PgHealth.Slot held = last.get().slots().stream().filter(x -> x.name().equals(slot.name())).findFirst().orElseThrow();
            try (ResultSet rs = s.executeQuery("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '"
                    + last.get().replicas().get(0).flushLsn() + "')")) {
                rs.next();
                assertTrue(held.retainedWalBytes() >= rs.getLong(1) && rs.getLong(1) > 4_000_000,
                        "retained " + held.retainedWalBytes() + ", written since the standby stopped " + rs.getLong(1));
            }
        } finally {
            signal("CONT", receiver);
        }
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(500)).until(() ->
                quorum.confirming("pg-1", PgHealth.primary(cluster.query("pg-1", PgHealth.PRIMARY_SQL))) == 1);
    }

    private static void signal(String signal, String pid) throws Exception {
        assertEquals(0, new ProcessBuilder("kill", "-" + signal, pid).inheritIO().start().waitFor());
    }
}
