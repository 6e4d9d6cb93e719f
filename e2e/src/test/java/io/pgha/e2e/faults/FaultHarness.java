package io.pgha.e2e.faults;

import com.fasterxml.jackson.databind.JsonNode;
import io.pgha.e2e.Launcher;
import io.pgha.e2e.Signals;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

import static org.awaitility.Awaitility.await;

/**
 * One local cluster under test: the launcher, its monitors (at least two), and writers through
 * the router and straight to every instance, started once the cluster is Ready. Each fault is a
 * series of trials; {@link #finish} hands the writes of a fault's trials to the {@link Checker}.
 */
final class FaultHarness implements AutoCloseable {
    /**
     * The JUnit tag of fault cases that CI leaves out to keep within its time budget (another case
     * covers the same ground there); monitor/bench/faults.sh runs them.
     */
    static final String BENCH_ONLY = "faults-bench";

    /** How many trials a fault runs: the system property {@code pgha.faults.trials}, or the test's own count. */
    static int trials(int ci) {
        return Integer.getInteger("pgha.faults.trials", ci);
    }

    final Launcher pgha;
    final Monitors monitors;
    final List<String> instances = new ArrayList<>();
    private final Map<String, String> superuser = new LinkedHashMap<>();
    private final Writers writers;

    FaultHarness(String manifest, Map<String, String> env) throws Exception {
        if (!"root".equals(System.getProperty("user.name"))) {
            throw new AssertionError("the fault harness needs root: it runs monitors in an OS group of their own and cuts "
                    + "connections with nftables");
        }
        pgha = new Launcher();
        env.forEach(pgha::env);
        monitors = new Monitors(pgha);
        try {
            pgha.run("up", "-f", manifest).ok();
            monitors.takeOver();
            writers = startWriters();
        } catch (Exception | AssertionError e) {
            // a cluster that did not come up is still stopped: its services would outlive the tests
            monitors.close();
            pgha.close();
            throw e;
        }
    }

    private Writers startWriters() throws Exception {
        Map<Integer, String> byPort = new LinkedHashMap<>();
        Map<String, String> targets = new LinkedHashMap<>();
        targets.put(Writers.ROUTER, pgha.uri("--router"));
        for (JsonNode i : pgha.status().get("instances")) {
            String name = i.get("name").asText();
            instances.add(name);
            byPort.put(i.get("port").asInt(), name);
            String app = pgha.uri("--instance", name);
            // the superuser, but in the application's database, where the writers' table is
            String su = pgha.uri("--superuser", "--instance", name);
            superuser.put(name, su.substring(0, su.lastIndexOf('/')) + app.substring(app.lastIndexOf('/')));
            targets.put("direct-" + name, app);
        }
        try (Connection c = Launcher.connect(pgha.uri("--primary"))) {
            Writers.createTable(c);
        }
        Writers started = new Writers(targets, byPort);
        await("first write through the router").atMost(Duration.ofSeconds(30))
                .until(() -> started.acks().stream().anyMatch(ack -> ack.writer().equals(Writers.ROUTER)));
        return started;
    }

    String primary() {
        return pgha.status().get("currentPrimary").asText();
    }

    long postmaster(String instance) {
        return pgha.instance(instance).get("pid").asLong();
    }

    int port(String instance) {
        return pgha.instance(instance).get("port").asInt();
    }

    /** Ends {@code primary}'s WAL sender to {@code standby}, as wal_sender_timeout would end it. */
    void endWalSender(String primary, String standby) throws Exception {
        try (Connection c = Launcher.connect(superuser.get(primary)); java.sql.PreparedStatement s = c.prepareStatement(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_replication WHERE application_name = ?")) {
            s.setString(1, standby);
            s.executeQuery().close();
        }
    }

    /** The PID of {@code standby}'s WAL receiver, a child of its postmaster. */
    long walReceiver(String standby) {
        return ProcessHandle.of(postmaster(standby)).stream().flatMap(ProcessHandle::children)
                .filter(c -> argv0(c.pid()).contains("walreceiver")).mapToLong(ProcessHandle::pid)
                .findFirst().orElseThrow(() -> new AssertionError(standby + " runs no WAL receiver"));
    }

    private static String argv0(long pid) {
        try {
            String cmdline = java.nio.file.Files.readString(java.nio.file.Path.of("/proc/" + pid + "/cmdline"));
            int end = cmdline.indexOf('\0');
            return end < 0 ? cmdline : cmdline.substring(0, end);
        } catch (java.io.IOException e) {
            return "";
        }
    }

    /**
     * Whether {@code standby}'s WAL receiver heard from a primary within {@code within}, asked on
     * the standby itself: a cut that really holds leaves it hearing nothing, whatever connection
     * it opens.
     */
    boolean hears(String standby, Duration within) throws Exception {
        try (Connection c = Launcher.connect(superuser.get(standby)); java.sql.PreparedStatement s = c.prepareStatement(
                "SELECT count(*) FROM pg_stat_wal_receiver WHERE last_msg_receipt_time > clock_timestamp() - ?::interval")) {
            s.setString(1, within.toMillis() + " milliseconds");
            try (java.sql.ResultSet rs = s.executeQuery()) {
                rs.next();
                return rs.getLong(1) > 0;
            }
        }
    }

    /** The client port of {@code standby}'s replication connection, as the primary sees it. */
    int replicationClientPort(String primary, String standby) throws Exception {
        return Integer.parseInt(replicationColumn(primary, standby, "client_port"));
    }

    /** How far {@code primary} has seen {@code standby} flush ("none" without a connection). */
    String replicationFlush(String primary, String standby) throws Exception {
        return replicationColumn(primary, standby, "coalesce(flush_lsn::text, 'none')");
    }

    private String replicationColumn(String primary, String standby, String column) throws Exception {
        try (Connection c = Launcher.connect(superuser.get(primary)); java.sql.PreparedStatement s = c.prepareStatement(
                "SELECT " + column + " FROM pg_stat_replication WHERE application_name = ?")) {
            s.setString(1, standby);
            try (java.sql.ResultSet rs = s.executeQuery()) {
                return rs.next() ? rs.getString(1) : "none";
            }
        }
    }

    /** The instances that answer as writable now, asked directly (not through pgha). */
    List<String> writable() {
        return Checker.writable(superuser);
    }

    long lastRouterAck() {
        return writers.acks().stream().filter(a -> a.writer().equals(Writers.ROUTER)).mapToLong(Ack::nanos).max().orElse(0);
    }

    /**
     * Waits until a failover away from {@code old} is over: another primary recorded, a write
     * through the router acknowledged after {@code faultAt}, the cluster Ready with {@code old}
     * back as a standby, and at least two monitors running. Returns the write gap of the trial.
     */
    double awaitRecovered(String old, long faultAt) throws IOException {
        await("a primary other than " + old).atMost(Duration.ofSeconds(90)).until(() -> !old.equals(primary()));
        await("a write through the router after the fault").atMost(Duration.ofSeconds(60)).until(() -> lastRouterAck() > faultAt);
        await(old + " back as a standby").atMost(Duration.ofSeconds(120)).until(() -> "Ready".equals(pgha.status().get("phase").asText())
                && "standby".equals(pgha.instance(old).path("role").asText()));
        while (monitors.aliveCount() < 2) {
            monitors.startAnother();
        }
        return gapAround(faultAt);
    }

    /**
     * The plainest fault: the primary's postmaster killed with SIGKILL, {@link #trials(int) trials(1)}
     * times, each time waiting for the failover to be over; each trial's write gap goes into
     * {@code row}.
     */
    void killPrimaryTrials(FaultRow row) throws Exception {
        for (int t = 0; t < trials(1); t++) {
            String old = primary();
            long faultAt = now();
            Signals.send("KILL", postmaster(old));
            double gap = awaitRecovered(old, faultAt);
            row.trial(gap, old + " -> " + primary());
        }
    }

    /** The longest pause between two acknowledged writes through the router, from the last one before {@code faultAt} on. */
    double gapAround(long faultAt) {
        List<Long> times = writers.acks().stream().filter(a -> a.writer().equals(Writers.ROUTER)).map(Ack::nanos).sorted().toList();
        long worst = 0;
        long previous = -1;
        for (long t : times) {
            if (t > faultAt && previous >= 0) {
                worst = Math.max(worst, t - previous);
            }
            previous = t;
        }
        return worst / 1e9;
    }

    long now() {
        return System.nanoTime();
    }

    /** Judges every write acknowledged since {@code since} and ends the fault's row. */
    Checker.Verdict finish(FaultRow row, long since) throws Exception {
        List<Ack> acks = writers.acks().stream().filter(a -> a.nanos() >= since).toList();
        Checker.Verdict v = Checker.check(superuser, acks);
        row.finish(v);
        return v;
    }

    /** Every write acknowledged so far, judged. */
    Checker.Verdict checkAll() throws Exception {
        return Checker.check(superuser, writers.acks());
    }

    /**
     * Waits (polling every 2 ms) until a line appended to {@code log} after {@code from} satisfies
     * {@code match}; returns that line.
     */
    static String awaitLine(Path log, long from, Predicate<String> match, Duration atMost) {
        String[] found = new String[1];
        await("a line in " + log).atMost(atMost).pollDelay(Duration.ZERO).pollInterval(Duration.ofMillis(2)).until(() -> {
            try (RandomAccessFile f = new RandomAccessFile(log.toFile(), "r")) {
                if (f.length() <= from) {
                    return false;
                }
                byte[] tail = new byte[(int) (f.length() - from)];
                f.seek(from);
                f.readFully(tail);
                for (String line : new String(tail, StandardCharsets.UTF_8).split("\n")) {
                    if (match.test(line)) {
                        found[0] = line;
                        return true;
                    }
                }
                return false;
            }
        });
        return found[0];
    }

    @Override
    public void close() throws Exception {
        try {
            writers.close();
        } finally {
            monitors.close();
            pgha.close();
        }
    }
}
