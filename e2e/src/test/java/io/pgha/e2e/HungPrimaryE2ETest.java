package io.pgha.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.parallel.Isolated;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A primary that is slow is not a dead one, and one that hangs is replaced fast.
 *
 * <p>The primary hangs instead of dying (SIGSTOP on its postmaster and every child): the failover
 * starts within {@link #MAX_DETECTION} and replaces it; how long new clients of the router, each
 * write on a connection of its own, were without an acknowledged write is printed; probes writing directly to every instance
 * every 50 ms never see the old primary acknowledge a write after it froze, nor after its
 * processes are resumed. Then the new primary is saturated by pgbench on every core: the monitor
 * must not fail it over (same primary, same timeline, no failover in its history).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Isolated
class HungPrimaryE2ETest {
    /**
     * From the freeze to the failover's start (its history entry's startedAt): three check
     * intervals of silence and a second of slack. Before silence was judged by the clock, three
     * checks of 2 s each and a fresh connection after each took 6-7 s.
     */
    static final Duration MAX_DETECTION = Duration.ofSeconds(4);
    /**
     * Writers through the router: each abandons a write after two seconds (a loaded machine takes
     * longer than one for a healthy write at times), so together they sample every quarter second.
     */
    private static final int ROUTER_WRITERS = 8;

    /**
     * A probe write {@code instance} acknowledged, with the nanoTime at which it was sent: one sent
     * before the freeze may be answered after it (committed before, read later), and is no
     * acknowledgement by a frozen primary.
     */
    private record Ack(String instance, long nanos) {
    }

    private Launcher pgha;
    private final AtomicBoolean probing = new AtomicBoolean(true);
    private final ConcurrentLinkedQueue<Ack> acks = new ConcurrentLinkedQueue<>();
    private final List<Thread> probes = new ArrayList<>();

    @BeforeAll
    void up() throws Exception {
        pgha = new Launcher();
        pgha.run("up", "-f", "../deploy/examples/sync-quorum.yaml").ok();
        try (Connection c = Launcher.connect(pgha.uri("--primary")); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE probe (instance text, at timestamptz DEFAULT now())");
        }
        try (Connection c = Launcher.connect(pgha.uri("--rw")); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE routed (id bigint PRIMARY KEY)");
        }
        for (String instance : List.of("pg-1", "pg-2", "pg-3")) {
            String uri = pgha.uri("--instance", instance);
            Thread t = new Thread(() -> probe(instance, uri), "probe-" + instance);
            t.start();
            probes.add(t);
        }
    }

    @AfterAll
    void down() throws Exception {
        probing.set(false);
        for (Thread t : probes) {
            t.join(10_000);
        }
        pgha.close();
    }

    /** Every 50 ms, one INSERT straight to {@code instance}; short timeouts, so a frozen server only costs time. */
    private void probe(String instance, String uri) {
        Properties p = Launcher.credentials(uri);
        p.setProperty("connectTimeout", "1");
        p.setProperty("socketTimeout", "2");
        String url = Launcher.jdbcUrl(uri);
        while (probing.get()) {
            long started = System.nanoTime();
            try (Connection c = DriverManager.getConnection(url, p);
                 PreparedStatement insert = c.prepareStatement("INSERT INTO probe (instance) VALUES (?)")) {
                insert.setString(1, instance);
                insert.executeUpdate();
                acks.add(new Ack(instance, started));
            } catch (Exception e) {
                // a standby refuses writes, a frozen or dead primary does not answer: neither acknowledges
            }
            long elapsed = (System.nanoTime() - started) / 1_000_000;
            if (elapsed < 50) {
                java.util.concurrent.locks.LockSupport.parkNanos((50 - elapsed) * 1_000_000);
            }
        }
    }

    /**
     * Every 20 ms, one INSERT through the router's read-write port on a new connection, as a new
     * client would; a write that has no answer within two seconds is abandoned. Adds the nanoTime of
     * each acknowledgement to {@code acked}.
     */
    private void writeThroughRouter(String uri, AtomicLong ids, AtomicBoolean writing, ConcurrentLinkedQueue<Long> acked) {
        Properties p = Launcher.credentials(uri);
        p.setProperty("connectTimeout", "2");
        p.setProperty("socketTimeout", "2");
        String url = Launcher.jdbcUrl(uri);
        while (writing.get()) {
            try (Connection c = DriverManager.getConnection(url, p);
                 PreparedStatement insert = c.prepareStatement("INSERT INTO routed VALUES (?)")) {
                insert.setLong(1, ids.incrementAndGet());
                insert.executeUpdate();
                acked.add(System.nanoTime());
            } catch (Exception e) {
                // the primary hangs, or the router has none yet: a new client would retry
            }
            java.util.concurrent.locks.LockSupport.parkNanos(20_000_000);
        }
    }

    /** The longest time without an acknowledgement, from the last one before {@code from} on. */
    static Duration longestGap(List<Long> ackNanos, long from) {
        List<Long> sorted = ackNanos.stream().sorted().toList();
        long previous = sorted.stream().filter(t -> t <= from).reduce((a, b) -> b).orElse(from);
        long longest = 0;
        for (long t : sorted) {
            if (t > previous) {
                longest = Math.max(longest, t - previous);
                previous = t;
            }
        }
        return Duration.ofNanos(longest);
    }

    @Test
    @Order(2)
    void aPrimarySaturatedByPgbenchIsNotFailedOver() throws Exception {
        String primary = pgha.status().get("currentPrimary").asText();
        JsonNode before = pgha.recordedTopology();
        String uri = pgha.uri("--superuser", "--primary");
        Launcher.pgbench(uri, "-i", "-s", "1", "-q");
        int cores = Runtime.getRuntime().availableProcessors();
        String out = Launcher.pgbench(uri, "-c", Integer.toString(4 * cores), "-j", Integer.toString(cores), "-T", "20",
                "-n", "-P", "5");
        System.out.printf("pgbench on %d cores against %s:%n%s%n", cores, primary, out);
        JsonNode after = pgha.recordedTopology();
        assertEquals(primary, after.path("currentPrimary").asText(), "the loaded primary was failed over");
        assertEquals(before.path("timeline").asInt(), after.path("timeline").asInt(), "the timeline changed");
        assertEquals(before.path("history").size(), after.path("history").size(), "a failover was recorded");
        assertTrue(after.path("fenced").isEmpty(), "an instance was fenced: " + after.path("fenced"));
    }

    @Test
    @Order(1)
    void frozenPrimaryIsReplacedAndNeverAcknowledgesAgain() throws Exception {
        String old = pgha.status().get("currentPrimary").asText();
        String router = pgha.uri("--rw");
        AtomicBoolean writing = new AtomicBoolean(true);
        AtomicLong ids = new AtomicLong();
        ConcurrentLinkedQueue<Long> routed = new ConcurrentLinkedQueue<>();
        List<Thread> writers = new ArrayList<>();
        for (int i = 0; i < ROUTER_WRITERS; i++) {
            Thread t = new Thread(() -> writeThroughRouter(router, ids, writing, routed), "router-writer-" + i);
            t.start();
            writers.add(t);
        }
        await().atMost(Duration.ofSeconds(30)).until(() -> routed.size() >= 20);
        await().atMost(Duration.ofSeconds(10)).until(() -> acks.stream().anyMatch(a -> a.instance().equals(old)));
        long postmaster = pgha.instance(old).get("pid").asLong();
        // the postmaster first: a backend it forked between a listing of its children and their
        // SIGSTOP would go on serving (ci41 saw a probe write acknowledged after the freeze)
        Signals.send("STOP", postmaster);
        List<Long> frozen = Signals.server(postmaster);
        Signals.send("STOP", frozen);
        long frozenAt = System.nanoTime();
        java.time.Instant frozenWall = java.time.Instant.now();

        await().atMost(Duration.ofSeconds(60)).until(() -> !old.equals(pgha.status().get("currentPrimary").asText()));
        String next = pgha.status().get("currentPrimary").asText();
        await().atMost(Duration.ofSeconds(30)).until(() -> acks.stream().anyMatch(a -> a.instance().equals(next) && a.nanos() > frozenAt));
        await().atMost(Duration.ofSeconds(30)).until(() -> routed.stream().filter(t -> t > frozenAt).count() >= 20);
        writing.set(false);
        for (Thread t : writers) {
            t.join(10_000);
        }
        Duration gap = longestGap(new ArrayList<>(routed), frozenAt);
        JsonNode history = pgha.recordedTopology().path("history");
        JsonNode failover = history.path(history.size() - 1);
        Duration detected = Duration.between(frozenWall, java.time.Instant.parse(failover.path("startedAt").asText()));
        Duration recorded = Duration.between(frozenWall, java.time.Instant.parse(failover.path("finishedAt").asText()));
        long recordedAt = frozenAt + recorded.toNanos();
        long routedAfter = routed.stream().filter(t -> t > recordedAt).mapToLong(t -> t - recordedAt).min().orElse(-1) / 1_000_000;
        // the whole way to a new client, for the record: the failover's steps and the router are timed, not asserted here
        System.out.printf("hung primary %s: failover started %d ms after the freeze, %s recorded as the primary after %d ms, "
                + "the first write through the router %d ms after that; new clients of the router were without an "
                + "acknowledged write for %d ms%n", old, detected.toMillis(), next, recorded.toMillis(), routedAfter,
                gap.toMillis());
        try (java.util.stream.Stream<String> log = java.nio.file.Files.lines(pgha.home.resolve("logs/monitor.log"))) {
            log.filter(l -> l.matches(".*(failed check|slow, not failed|failover|fencing|promoted).*")).forEach(System.out::println);
        }
        assertTrue(detected.compareTo(MAX_DETECTION) <= 0, "the failover started " + detected.toMillis()
                + " ms after the freeze, more than " + MAX_DETECTION.toMillis() + " ms");

        // resume whatever is left of the old processes; fencing should have killed them already
        Signals.send("CONT", Signals.alive(frozen));
        long resumedAt = System.nanoTime();
        await().atMost(Duration.ofSeconds(60)).until(() -> "Ready".equals(pgha.status().get("phase").asText())
                && "standby".equals(pgha.instance(old).path("role").asText()));
        // keep probing a while after the resume, then look at every acknowledgement
        await().atMost(Duration.ofSeconds(30)).until(() -> acks.stream().filter(a -> a.instance().equals(next) && a.nanos() > resumedAt).count() >= 20);

        long lateFromOld = acks.stream().filter(a -> a.instance().equals(old) && a.nanos() > frozenAt).count();
        System.out.printf("hung primary %s replaced by %s; %d probe writes acknowledged in all, %d by %s after it froze%n",
                old, next, acks.size(), lateFromOld, old);
        assertEquals(0, lateFromOld, "the frozen primary acknowledged writes");
        assertTrue(acks.stream().noneMatch(a -> !a.instance().equals(next) && !a.instance().equals(old)),
                "only a primary acknowledges writes");
    }
}
