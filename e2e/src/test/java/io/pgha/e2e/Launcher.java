package io.pgha.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.pgha.local.StateFiles;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Runs the real {@code deploy/local/pgha} launcher for one state directory under /tmp (which the
 * PostgreSQL OS user can traverse when the tests run as root) and a free range of 50 ports.
 * Public for the fault harness in {@code io.pgha.e2e.faults}.
 */
public final class Launcher implements AutoCloseable {
    static final Path SCRIPT = Path.of("..", "deploy", "local", "pgha").toAbsolutePath().normalize();
    private static final ObjectMapper JSON = new ObjectMapper();

    public record Result(int exitCode, String stdout, String stderr) {
        public Result ok() {
            if (exitCode != 0) {
                throw new AssertionError("pgha exited " + exitCode + ": " + stderr + stdout);
            }
            return this;
        }
    }

    public final Path home;
    public final int portBase;
    private final Map<String, String> env = new HashMap<>();

    public Launcher() throws IOException {
        this(TestPorts.range(50));
    }

    public Launcher(int portBase) throws IOException {
        this.home = Files.createTempDirectory(Path.of("/tmp"), "pgha-e2e",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
        this.portBase = portBase;
        env.put("PGHA_HOME", home.toString());
        env.put("PGHA_PORT_BASE", Integer.toString(portBase));
    }

    public Launcher env(String key, String value) {
        env.put(key, value);
        return this;
    }

    public Result run(String... args) {
        List<String> cmd = new ArrayList<>(List.of(SCRIPT.toString()));
        cmd.addAll(List.of(args));
        try {
            Path out = Files.createTempFile("pgha-e2e", ".out");
            Path err = Files.createTempFile("pgha-e2e", ".err");
            ProcessBuilder pb = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()));
            pb.environment().putAll(env);
            Process p = pb.start();
            if (!p.waitFor(10, TimeUnit.MINUTES)) {
                p.destroyForcibly();
                throw new AssertionError("pgha " + String.join(" ", args) + " did not finish in 10 minutes");
            }
            Result r = new Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
                    Files.readString(err, StandardCharsets.UTF_8));
            Files.delete(out);
            Files.delete(err);
            return r;
        } catch (IOException e) {
            throw new AssertionError(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    public JsonNode status() {
        try {
            return JSON.readTree(run("status", "--json").ok().stdout());
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    public JsonNode instance(String name) {
        for (JsonNode i : status().get("instances")) {
            if (i.get("name").asText().equals(name)) {
                return i;
            }
        }
        throw new AssertionError("no instance " + name + " in status");
    }

    public String uri(String... args) {
        List<String> all = new ArrayList<>(List.of("uri"));
        all.addAll(List.of(args));
        return run(all.toArray(String[]::new)).ok().stdout().strip();
    }

    /** A JDBC connection from a {@code postgresql://user:password@host:port/db} URI. */
    public static Connection connect(String uri) throws SQLException {
        return DriverManager.getConnection(jdbcUrl(uri), credentials(uri));
    }

    /** The JDBC URL of a {@code postgresql://} URI, without its credentials. */
    public static String jdbcUrl(String uri) {
        java.net.URI u = java.net.URI.create(uri);
        return "jdbc:postgresql://" + u.getHost() + ":" + u.getPort() + u.getPath();
    }

    /** The user and password of a {@code postgresql://} URI as driver properties, to add more to. */
    public static java.util.Properties credentials(String uri) {
        String[] userInfo = java.net.URI.create(uri).getRawUserInfo().split(":", 2);
        java.util.Properties p = new java.util.Properties();
        p.setProperty("user", decode(userInfo[0]));
        p.setProperty("password", decode(userInfo[1]));
        return p;
    }

    /** Runs pgbench against a {@code postgresql://} URI and returns its output; fails the test when it fails. */
    static String pgbench(String uri, String... args) throws IOException, InterruptedException {
        java.util.Properties credentials = credentials(uri);
        java.net.URI u = java.net.URI.create(uri);
        List<String> cmd = new ArrayList<>(List.of("/usr/lib/postgresql/15/bin/pgbench"));
        cmd.addAll(List.of(args));
        cmd.addAll(List.of("-h", u.getHost(), "-p", Integer.toString(u.getPort()), "-U", credentials.getProperty("user"),
                u.getPath().substring(1)));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().put("PGPASSWORD", credentials.getProperty("password"));
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.waitFor() != 0) {
            throw new AssertionError("pgbench " + String.join(" ", args) + " failed: " + out);
        }
        return out;
    }

    /** The cluster's status as the monitor recorded it in the store (timeline, history, fenced). */
    JsonNode recordedTopology() {
        try {
            return JSON.readTree(home.resolve("store/postgresclusters/default/pg.json").toFile()).path("status").path("topology");
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    public Connection superuser(String instance) throws SQLException {
        return connect(uri("--superuser", "--instance", instance));
    }

    private static String decode(String s) {
        return java.net.URLDecoder.decode(s, StandardCharsets.UTF_8);
    }

    @Override
    public void close() throws IOException {
        run("down");
        // keep the logs of every cluster for a post-mortem: services, instances, pgha's commands
        Path keep = Path.of("target", "e2e-logs", home.getFileName().toString());
        if (Files.isDirectory(home.resolve("logs"))) {
            Files.createDirectories(keep);
            try (Stream<Path> logs = Files.list(home.resolve("logs"))) {
                for (Path log : logs.toList()) {
                    Files.copy(log, keep.resolve(log.getFileName()), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                }
            }
        }
        run("down", "--purge");
        StateFiles.deleteTree(home);
    }
}
