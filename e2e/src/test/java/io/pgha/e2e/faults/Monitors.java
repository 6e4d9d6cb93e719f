package io.pgha.e2e.faults;

import io.pgha.e2e.Signals;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.pgha.e2e.Launcher;
import io.pgha.e2e.TestPorts;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

import static org.awaitility.Awaitility.await;

/**
 * The monitors of one local cluster. {@link #takeOver} replaces the one {@code pgha up} starts by two that this class starts as the
 * launcher does, but in the OS group {@link Partition#MONITOR_GID}, each with its own identity,
 * HTTP port, log and clock offset file (the monitor's {@code pgha.monitor.clock-offset-file} test
 * hook). A restarted monitor gets a new identity, as a new pod would.
 */
final class Monitors implements AutoCloseable {
    private static final Path JAR = Path.of("..", "monitor", "target", "quarkus-app", "quarkus-run.jar").toAbsolutePath().normalize();
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration START_TIMEOUT = Duration.ofSeconds(
            Long.parseLong(System.getenv().getOrDefault("PGHA_SERVICE_START_TIMEOUT", "60")));

    private final Launcher pgha;
    /** identity to PID, in start order */
    private final Map<String, Long> pids = new LinkedHashMap<>();
    private final Map<String, Process> started = new LinkedHashMap<>();
    private int count;

    Monitors(Launcher pgha) {
        this.pgha = pgha;
    }

    /**
     * Call after {@code pgha up}: starts two monitors of this class's own, then stops the
     * launcher's (SIGTERM: it hands the lease over) so that every monitor runs in the monitors' group.
     */
    void takeOver() throws IOException {
        long first = Long.parseLong(Files.readString(pgha.home.resolve("run/monitor.pid")).strip());
        startAnother();
        startAnother();
        Signals.send("TERM", first);
        await("the launcher's monitor stopped").atMost(Duration.ofSeconds(30)).until(() -> !Files.exists(Path.of("/proc/" + first)));
    }

    /** Starts one more monitor and waits until it is live; returns its identity. */
    String startAnother() throws IOException {
        String identity = "monitor-" + (++count);
        int port = TestPorts.range(1);
        // root, but in a group of its own, so that partitions can single out its sockets (meta skgid)
        ProcessBuilder pb = new ProcessBuilder("setpriv", "--regid", Integer.toString(Partition.MONITOR_GID), "--clear-groups", "--",
                "java", "-Xmx256m", "-XX:+UseSerialGC", "-jar", JAR.toString())
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log(identity).toFile()))
                .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()));
        Map<String, String> env = pb.environment();
        env.put("PGHA_HOME", pgha.home.toString());
        env.put("PGHA_PORT_BASE", Integer.toString(pgha.portBase));
        env.put("PGHA_HTTP_PORT", Integer.toString(port));
        env.put("QUARKUS_HTTP_HOST", "127.0.0.1");
        env.put("PGHA_MONITOR_IDENTITY", identity);
        env.put("PGHA_MONITOR_CLOCK_OFFSET_FILE", clockFile(pgha, identity).toString());
        Process p = pb.start();
        started.put(identity, p);
        pids.put(identity, p.pid());
        HttpClient http = HttpClient.newHttpClient();
        HttpRequest live = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/q/health/live")).build();
        // as long as pgha up gives a service to answer (PGHA_SERVICE_START_TIMEOUT, 60 s by default)
        await(identity + " live").atMost(START_TIMEOUT).until(() -> {
            if (!p.isAlive()) {
                throw new AssertionError(identity + " exited: see " + log(identity));
            }
            try {
                return http.send(live, HttpResponse.BodyHandlers.discarding()).statusCode() == 200;
            } catch (IOException e) {
                return false;
            }
        });
        return identity;
    }

    Path log(String identity) {
        return pgha.home.resolve("logs").resolve(identity + ".log");
    }

    long pid(String identity) {
        return pids.get(identity);
    }

    boolean alive(String identity) {
        return ProcessHandle.of(pids.get(identity)).map(ProcessHandle::isAlive).orElse(false);
    }

    long aliveCount() {
        return pids.keySet().stream().filter(this::alive).count();
    }

    java.util.List<String> aliveIdentities() {
        return pids.keySet().stream().filter(this::alive).toList();
    }

    /** The holder the lease file names, read straight from the file. */
    Optional<String> leader() {
        Path lease = pgha.home.resolve("leases/pg-monitor.json");
        try {
            String holder = JSON.readTree(Files.readString(lease)).path("holderIdentity").asText(null);
            return Optional.ofNullable(holder);
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /** Steps the wall clock of one monitor to the system clock plus {@code offset}. */
    void setClockOffset(String identity, Duration offset) throws IOException {
        Path file = clockFile(pgha, identity);
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.writeString(tmp, Long.toString(offset.toMillis()), StandardCharsets.UTF_8);
        Files.move(tmp, file, java.nio.file.StandardCopyOption.ATOMIC_MOVE, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }

    private static Path clockFile(Launcher pgha, String identity) {
        return pgha.home.resolve("run").resolve(identity + ".clock-offset");
    }

    @Override
    public void close() {
        for (Process p : started.values()) {
            ProcessHandle.of(p.pid()).ifPresent(h -> Signals.send("CONT", h.pid()));
            p.destroyForcibly();
        }
    }
}
