package io.pgha.e2e.faults;

import io.pgha.e2e.Signals;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.parallel.Isolated;

import java.nio.file.Files;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The fault harness on a synchronous-quorum cluster (deploy/examples/sync-quorum.yaml) with two
 * monitors: each fault runs a few trials here (CI) and many through monitor/bench/faults.sh
 * ({@code -Dpgha.faults.trials=N}). After each fault the {@link Checker} must find no acknowledged
 * write lost and none acknowledged past a fork.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Isolated
class QuorumFaultsE2ETest {
    /** The log line a monitor writes as it starts each step of a failover, and what it means to stop it there. */
    private static final List<String[]> STEPS = List.of(
            new String[]{"failover: Promote[", "during promote"},
            new String[]{"failover: Fence[", "after freeze"},
            new String[]{"failover: AwaitCatchUp[", "after fence"});
    private static final Duration CLOCK_STEP = Duration.ofHours(1);
    /** How long the monitors stay cut from the primary: several lease durations and failure thresholds. */
    private static final Duration MONITOR_CUT = Duration.ofSeconds(20);
    /** The longest wait for writes through the router after a partition heals. */
    private static final Duration WRITES_RESUME = Duration.ofSeconds(30);

    private FaultHarness h;

    @BeforeAll
    void up() throws Exception {
        h = new FaultHarness("../deploy/examples/sync-quorum.yaml", Map.of());
    }

    @AfterAll
    void down() throws Exception {
        if (h != null) {
            h.close();
        }
    }

    /** In CI the leader, clock and partition cases kill or cut a primary too; monitor/bench/faults.sh repeats this one. */
    @Test
    @Tag(FaultHarness.BENCH_ONLY)
    @Order(1)
    void primarySigkill() throws Exception {
        FaultRow row = new FaultRow("quorum: SIGKILL primary");
        long since = h.now();
        // one here; the leader, clock and partition faults below each kill or cut a primary too
        h.killPrimaryTrials(row);
        assertSafe(h.finish(row, since));
    }

    @Test
    @Order(2)
    void monitorLeaderSigkilledDuringFailover() throws Exception {
        leaderFaultDuringFailover("KILL", FaultHarness.trials(1), 0);
    }

    @Test
    @Order(3)
    void monitorLeaderFrozenDuringFailover() throws Exception {
        leaderFaultDuringFailover("STOP", FaultHarness.trials(1), 1);
    }

    /**
     * Kills the primary, waits until the leading monitor logs the start of a step, and sends it
     * {@code signal} at once; the other monitor must take the lease over and finish the failover.
     * A frozen leader is resumed afterwards and must not act on its stale view. Trial t stops the
     * leader in step {@code firstStep + t} of {@link #STEPS}, round the list.
     */
    private void leaderFaultDuringFailover(String signal, int trials, int firstStep) throws Exception {
        FaultRow row = new FaultRow("quorum: monitor leader SIG" + signal + " in failover");
        long since = h.now();
        for (int t = 0; t < trials; t++) {
            String[] step = STEPS.get((firstStep + t) % STEPS.size());
            String leader = await("a monitor leads").atMost(Duration.ofSeconds(30))
                    .until(() -> h.monitors.leader().filter(h.monitors::alive).orElse(null), l -> l != null);
            long from = Files.size(h.monitors.log(leader));
            String old = h.primary();
            long faultAt = h.now();
            Signals.send("KILL", h.postmaster(old));
            FaultHarness.awaitLine(h.monitors.log(leader), from, l -> l.contains(step[0]), Duration.ofSeconds(60));
            if (signal.equals("KILL")) {
                // wait for the reap: until then the killed monitor still counts as alive, and the
                // harness would not start the second monitor the next trial needs
                Signals.kill(h.monitors.pid(leader));
            } else {
                Signals.send(signal, h.monitors.pid(leader));
            }
            long signalledAt = h.now();
            String reached = lastStep(leader, from);
            double gap = h.awaitRecovered(old, faultAt);
            String successor = h.monitors.leader().orElse("none");
            assertTrue(!successor.equals(leader), "another monitor leads after " + leader + " got SIG" + signal);
            String note = old + " -> " + h.primary() + "; " + leader + " SIG" + signal + " " + step[1] + " (its last step logged: "
                    + reached + "), " + successor + " took over";
            if (signal.equals("STOP")) {
                // the frozen leader wakes up mid-procedure with a lease it no longer holds
                Signals.send("CONT", h.monitors.pid(leader));
                long thawedAt = h.now();
                await("writes go on for a lease duration after the thaw").atMost(Duration.ofSeconds(60))
                        .until(() -> h.lastRouterAck() > thawedAt + Duration.ofSeconds(6).toNanos());
                assertEquals(successor, h.monitors.leader().orElse("none"), "the thawed monitor must not take the lease back");
                note += "; thawed " + ((h.now() - signalledAt) / 1_000_000_000) + " s later";
            }
            h.checkAll();
            row.trial(gap, note);
        }
        assertSafe(h.finish(row, since));
    }

    /** The last failover step the monitor logged since {@code from}. */
    private String lastStep(String monitor, long from) throws Exception {
        String log = Files.readString(h.monitors.log(monitor)).substring((int) from);
        String last = "none";
        for (String line : log.split("\n")) {
            int i = line.indexOf("failover: ");
            if (i >= 0) {
                last = line.substring(i + "failover: ".length());
            }
        }
        return last;
    }

    /**
     * Steps the leading monitor's wall clock an hour forwards and the other monitors' an hour
     * backwards, then the reverse: each time the lease must stay where it is (no takeover, no
     * failover) for longer than its duration; then a SIGKILL of the primary must still be handled.
     */
    @Test
    @Order(4)
    void monitorClockSteps() throws Exception {
        FaultRow row = new FaultRow("quorum: monitor clock steps");
        long since = h.now();
        Map<String, Duration> offsets = new HashMap<>();
        for (int t = 0; t < FaultHarness.trials(1); t++) {
            String leader = await("a monitor leads").atMost(Duration.ofSeconds(30))
                    .until(() -> h.monitors.leader().filter(h.monitors::alive).orElse(null), l -> l != null);
            String primary = h.primary();
            for (Duration direction : List.of(CLOCK_STEP, CLOCK_STEP.negated())) {
                for (String m : h.monitors.aliveIdentities()) {
                    Duration offset = offsets.getOrDefault(m, Duration.ZERO).plus(m.equals(leader) ? direction : direction.negated());
                    offsets.put(m, offset);
                    h.monitors.setClockOffset(m, offset);
                }
                await("the lease and the primary stay put after the clock steps").during(Duration.ofSeconds(6))
                        .atMost(Duration.ofSeconds(15))
                        .until(() -> leader.equals(h.monitors.leader().orElse(null)) && primary.equals(h.primary()));
            }
            long faultAt = h.now();
            Signals.send("KILL", h.postmaster(primary));
            double gap = h.awaitRecovered(primary, faultAt);
            row.trial(gap, "leader " + leader + " stepped 1 h forwards, the others back, then the reverse; then "
                    + primary + " -> " + h.primary());
        }
        assertSafe(h.finish(row, since));
    }

    /**
     * The monitors cannot reach the primary; clients (the router, the writers) and the standbys
     * still can. Whether the monitors fail over or hold back because the standbys still hear the
     * primary, both are safe, so neither is asserted: never two writable instances during the cut,
     * writes through the router going again within {@link #WRITES_RESUME} of the heal (a failover
     * included), and nothing acknowledged lost or past a fork.
     */
    @Test
    @Order(5)
    void monitorCutFromPrimary() throws Exception {
        FaultRow row = new FaultRow("quorum: monitors cut from primary");
        long since = h.now();
        for (int t = 0; t < FaultHarness.trials(1); t++) {
            String old = h.primary();
            long faultAt = h.now();
            try (Partition p = new Partition().monitorsTo(h.port(old)).apply()) {
                // every sample must pass: an AssertionError thrown here ends the wait at once
                await("the cut of the monitors from " + old + " lasts").during(MONITOR_CUT)
                        .atMost(MONITOR_CUT.plusSeconds(30)).pollInterval(Duration.ofMillis(500)).until(() -> {
                            List<String> writable = h.writable();
                            assertTrue(writable.size() <= 1, "two writable instances while the monitors are cut off: " + writable);
                            return true;
                        });
                p.heal();
            }
            long healedAt = h.now();
            await("a write through the router after the heal").atMost(WRITES_RESUME).until(() -> h.lastRouterAck() > healedAt);
            String now = h.primary();
            double gap;
            if (now.equals(old)) {
                gap = h.gapAround(faultAt);
            } else {
                gap = h.awaitRecovered(old, faultAt);
            }
            row.trial(gap, old + " -> " + now + (now.equals(old) ? " (held: no failover)" : " (failed over)") + ", healed after "
                    + MONITOR_CUT.toSeconds() + " s");
        }
        assertSafe(h.finish(row, since));
    }

    /** Neither the standbys' WAL receivers nor the monitors reach the primary; clients still do. */
    @Test
    @Order(6)
    void primaryCutFromStandbysAndMonitor() throws Exception {
        partitionTheFailoverWay("quorum: primary cut from standbys+monitors",
                port -> new Partition().monitorsTo(port).userTo("postgres", port));
    }

    /**
     * A partition that leaves the primary unseen by the monitors and the standbys: a failover must
     * follow, with the old primary fenced, and nothing acknowledged lost; healed once another
     * primary is recorded.
     */
    private void partitionTheFailoverWay(String fault, java.util.function.IntFunction<Partition> cut) throws Exception {
        FaultRow row = new FaultRow(fault);
        long since = h.now();
        for (int t = 0; t < FaultHarness.trials(1); t++) {
            String old = h.primary();
            long faultAt = h.now();
            try (Partition p = cut.apply(h.port(old)).apply()) {
                await("a primary other than " + old).atMost(Duration.ofSeconds(90)).until(() -> !old.equals(h.primary()));
                p.heal();
            }
            double gap = h.awaitRecovered(old, faultAt);
            row.trial(gap, old + " -> " + h.primary() + ", healed after the failover");
        }
        assertSafe(h.finish(row, since));
    }

    /**
     * One standby is cut from the primary: both directions of its replication connection, and
     * every connection its server opens to the primary's port later. Its WAL receiver is made to
     * start again during the cut (its WAL sender ended too, as the timeouts on either side would
     * make them), so a cut that only
     * stopped the established connection would show as a new connection streaming. The other
     * standby keeps the quorum, so the primary stays and writes go on while the cut standby
     * hears nothing and its flushed position stands still; healed, it streams again.
     */
    @Test
    @Order(7)
    void standbyCutFromPrimary() throws Exception {
        FaultRow row = new FaultRow("quorum: one standby cut from primary");
        long since = h.now();
        for (int t = 0; t < FaultHarness.trials(1); t++) {
            String primary = h.primary();
            String standby = h.instances.stream().filter(i -> !i.equals(primary)).findFirst().orElseThrow();
            long faultAt = h.now();
            String flushedBefore;
            try (ServerGroup g = ServerGroup.of(h.postmaster(standby));
                 Partition p = new Partition().connection(h.replicationClientPort(primary, standby), h.port(primary))
                         .groupTo(g, h.port(primary)).apply()) {
                flushedBefore = h.replicationFlush(primary, standby);
                long cutAt = h.now();
                // both ends of the stalled connection give up, as their timeouts would make them (the slot is
                // free again), and the WAL receiver starts again after wal_retrieve_retry_interval (5 s), within the cut
                h.endWalSender(primary, standby);
                Signals.send("TERM", h.walReceiver(standby));
                await("writes go on and the primary stays while " + standby + " is cut off").during(Duration.ofSeconds(8))
                        .atMost(Duration.ofSeconds(20)).until(() -> primary.equals(h.primary()));
                assertTrue(h.lastRouterAck() > cutAt + Duration.ofSeconds(7).toNanos(), "writes went on through the quorum");
                String flushed = h.replicationFlush(primary, standby);
                assertTrue(flushed.equals("none") || flushed.equals(flushedBefore), standby + " was really cut off, but the "
                        + "primary saw it flush up to " + flushed + " (before the cut: " + flushedBefore + ")");
                assertFalse(h.hears(standby, Duration.ofSeconds(3)), standby + " still hears a primary: its new connection got through");
                p.heal();
            }
            await(standby + " streams again").atMost(Duration.ofSeconds(90))
                    .until(() -> !List.of("none", flushedBefore).contains(h.replicationFlush(primary, standby))
                            && h.hears(standby, Duration.ofSeconds(3)));
            row.trial(h.gapAround(faultAt), standby + " cut from " + primary + " and healed; primary unchanged");
        }
        assertSafe(h.finish(row, since));
    }

    private static void assertSafe(Checker.Verdict v) {
        assertTrue(v.acknowledged() > 100, "the writers really wrote: " + v.acknowledged());
        assertEquals(0, v.lost(), "acknowledged writes lost: " + v.problems());
        assertEquals(0, v.pastFork(), "writes acknowledged past the fork: " + v.problems());
    }
}
