package io.pgha.monitor.pg;

import io.pgha.local.testing.TestPostgres;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What keeps a former monitor leader that thaws after a freeze (SIGSTOP, a long pause) from
 * promoting a standby the new leader did not choose, against a real PostgreSQL 15.
 */
class InstanceConnectionFenceTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(10);
    private static TestPostgres pg;
    private static Vertx vertx;

    @BeforeAll
    static void start() throws Exception {
        pg = TestPostgres.start();
        vertx = Vertx.vertx();
    }

    @AfterAll
    static void stop() throws Exception {
        vertx.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
        pg.close();
    }

    private static InstanceConnection connect() {
        return new InstanceConnection(vertx, "pg-1", "127.0.0.1", pg.port(), TestPostgres.SUPERUSER, pg.superuserPassword(), null,
                TIMEOUT, Clock.systemUTC(), () -> { });
    }

    private static long monitorSessions() throws Exception {
        try (Connection c = pg.connect(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(*) FROM pg_stat_activity WHERE application_name = '"
                     + InstanceConnection.APPLICATION_NAME + "'")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    @Test
    void theFreezeEndsTheSessionsOfOtherMonitorsAndKeepsItsOwn() throws Exception {
        InstanceConnection former = connect();
        InstanceConnection leader = connect();
        try {
            former.execute("SELECT 1").toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
            leader.execute("SELECT 1").toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
            assertEquals(2, monitorSessions());

            // the instance is a primary here: the freeze detaches nothing, but ends the sessions all the same
            leader.freeze(TIMEOUT).toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
            assertEquals(1, monitorSessions(), "only the freezing monitor's own session is left");
            leader.execute("SELECT 1").toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
        } finally {
            former.drop();
            leader.drop();
        }
    }

    @Test
    void aMonitorThatNoLongerLeadsWhenItsPromoteWouldBeSentSendsNothing() throws Exception {
        InstanceConnection c = connect();
        try {
            // a primary answers pg_promote with an error of its own: that error shows the request was sent
            ExecutionException sent = assertThrows(ExecutionException.class, () -> c.promote(TIMEOUT, () -> true)
                    .toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS));
            assertTrue(sent.getCause().getMessage().contains("recovery is not in progress"), sent.getCause().getMessage());

            ExecutionException held = assertThrows(ExecutionException.class, () -> c.promote(TIMEOUT, () -> false)
                    .toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS));
            assertEquals("no longer leads: not promoting pg-1", held.getCause().getMessage());
        } finally {
            c.drop();
        }
    }
}
