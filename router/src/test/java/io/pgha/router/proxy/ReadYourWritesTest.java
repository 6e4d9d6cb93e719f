package io.pgha.router.proxy;

import io.pgha.router.topology.ServerAddress;
import io.pgha.router.topology.StaticTopologySource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Read-your-writes on a real replicated pair, the standby's replay delayed or not with
 * {@code recovery_min_apply_delay}.
 */
class ReadYourWritesTest {
    /** Round trips with replay delayed (the acceptance: 10,000). */
    private static final int DELAYED_ROUND_TRIPS = Integer.getInteger("pghatest.ryw.delayed", 10000);
    private static final int SPACED_ROUND_TRIPS = Integer.getInteger("pghatest.ryw.spaced", 1000);

    private static ReplicatedPair pair;
    private static final AtomicLong ids = new AtomicLong();

    @BeforeAll
    static void replicatedPair() throws Exception {
        pair = ReplicatedPair.start("CREATE TABLE ryw (id bigint PRIMARY KEY)", "GRANT ALL ON ryw TO " + TestCluster.APP_USER);
    }

    @AfterAll
    static void stop() throws IOException {
        if (pair != null) {
            pair.close();
        }
    }

    @Test
    void delayedReplayNeverMissesTheRowJustWritten() throws Exception {
        pair.applyDelay("500ms");
        // a short wait: correctness does not depend on it, and every read here waits it out
        try (ReplicatedPair.Proxy router = pair.router(RouterSettings.defaults(), Duration.ofMillis(1)); Connection c = router.connect()) {
            long started = System.nanoTime();
            Result r = roundTrips(c, DELAYED_ROUND_TRIPS, 0);
            System.out.printf("read-your-writes, replay delayed 500ms: %d round trips in %d ms, %d missed, %d read on the standby%n",
                    DELAYED_ROUND_TRIPS, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started), r.missed, r.onStandby);
            assertEquals(0, r.missed, "reads that missed the row just written");
        }
    }

    @Test
    void withThePolicyOffDelayedReplayMissesRows() throws Exception {
        pair.applyDelay("500ms");
        try (ReplicatedPair.Proxy router = pair.router(RouterSettings.defaults().withReadYourWrites(false), Duration.ZERO);
             Connection c = router.connect()) {
            Result r = roundTrips(c, 200, 0);
            System.out.printf("read-your-writes off, replay delayed 500ms: 200 round trips, %d missed, %d read on the standby%n",
                    r.missed, r.onStandby);
            assertTrue(r.missed > 0, "with the policy off some reads must miss the row (else the test proves nothing)");
        }
    }

    @Test
    void withoutDelayMostReadsAfterWritesStillGoToTheStandby() throws Exception {
        pair.applyDelay("0");
        try (ReplicatedPair.Proxy router = pair.router(RouterSettings.defaults(), Duration.ofMillis(10)); Connection c = router.connect()) {
            Result r = roundTrips(c, SPACED_ROUND_TRIPS, 20);
            System.out.printf("read-your-writes, no delay, 20 ms apart: %d round trips, %d missed, %d read on the standby%n",
                    SPACED_ROUND_TRIPS, r.missed, r.onStandby);
            assertEquals(0, r.missed, "reads that missed the row just written");
            assertTrue(r.onStandby >= SPACED_ROUND_TRIPS * 9 / 10, r.onStandby + " of " + SPACED_ROUND_TRIPS + " reads on the standby");
        }
    }

    @Test
    void withNoStandbyAReadAfterAWriteGoesToThePrimaryAtOnce() throws Exception {
        // as after a failover that left no standby: nobody to wait for (this once overflowed the event loop's stack)
        StaticTopologySource primaryOnly = StaticTopologySource.of(new ServerAddress("127.0.0.1", pair.primary.port()));
        try (ReplicatedPair.Proxy router = pair.router(primaryOnly, RouterSettings.defaults(), Duration.ofMillis(10));
             Connection c = router.connect()) {
            long started = System.nanoTime();
            Result r = roundTrips(c, 20, 0);
            assertEquals(new Result(0, 0), r);
            assertTrue(System.nanoTime() - started < TimeUnit.SECONDS.toNanos(10), "20 round trips took "
                    + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started) + " ms");
        }
    }

    private record Result(int missed, int onStandby) {
    }

    /** Insert a new row, then read it back (autocommit both), {@code n} times; counts misses and standby reads. */
    private static Result roundTrips(Connection c, int n, long pauseMillis) throws SQLException, InterruptedException {
        int missed = 0;
        int onStandby = 0;
        try (Statement s = c.createStatement()) {
            for (int i = 0; i < n; i++) {
                long id = ids.incrementAndGet();
                s.executeUpdate("INSERT INTO ryw VALUES (" + id + ")");
                try (ResultSet rs = s.executeQuery("SELECT count(*), inet_server_port() FROM ryw WHERE id = " + id)) {
                    rs.next();
                    if (rs.getLong(1) != 1) {
                        missed++;
                    }
                    if (rs.getInt(2) == pair.standbyPort) {
                        onStandby++;
                    }
                }
                if (pauseMillis > 0) {
                    Thread.sleep(pauseMillis); // load shape: round trips spaced apart, not a wait for a condition
                }
            }
        }
        return new Result(missed, onStandby);
    }

}
