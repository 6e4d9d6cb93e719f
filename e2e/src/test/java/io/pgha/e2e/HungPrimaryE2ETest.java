package io.pgha.e2e;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

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

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A primary that hangs instead of dying (SIGSTOP on its postmaster and every child) is detected
 * and replaced; probes writing directly to every instance every 50 ms never see the old primary
 * acknowledge a write after it froze, nor after its processes are resumed.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class HungPrimaryE2ETest {
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
                acks.add(new Ack(instance, System.nanoTime()));
            } catch (Exception e) {
                // a standby refuses writes, a frozen or dead primary does not answer: neither acknowledges
            }
            long elapsed = (System.nanoTime() - started) / 1_000_000;
            if (elapsed < 50) {
                java.util.concurrent.locks.LockSupport.parkNanos((50 - elapsed) * 1_000_000);
            }
        }
    }

    @Test
    void frozenPrimaryIsReplacedAndNeverAcknowledgesAgain() throws Exception {
        String old = pgha.status().get("currentPrimary").asText();
        await().atMost(Duration.ofSeconds(10)).until(() -> acks.stream().anyMatch(a -> a.instance().equals(old)));
        long postmaster = pgha.instance(old).get("pid").asLong();
        List<Long> frozen = new ArrayList<>(List.of(postmaster));
        ProcessHandle.of(postmaster).orElseThrow().children().forEach(child -> frozen.add(child.pid()));
        signal("-STOP", frozen);
        long frozenAt = System.nanoTime();

        await().atMost(Duration.ofSeconds(60)).until(() -> !old.equals(pgha.status().get("currentPrimary").asText()));
        String next = pgha.status().get("currentPrimary").asText();
        await().atMost(Duration.ofSeconds(30)).until(() -> acks.stream().anyMatch(a -> a.instance().equals(next) && a.nanos() > frozenAt));

        // resume whatever is left of the old processes; fencing should have killed them already
        signal("-CONT", frozen.stream().filter(pid -> ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)).toList());
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

    private static void signal(String signal, List<Long> pids) throws Exception {
        if (pids.isEmpty()) {
            return;
        }
        List<String> cmd = new ArrayList<>(List.of("kill", signal));
        pids.forEach(pid -> cmd.add(Long.toString(pid)));
        new ProcessBuilder(cmd).start().waitFor();
    }
}
