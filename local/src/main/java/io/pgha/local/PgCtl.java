package io.pgha.local;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;

/**
 * PostgreSQL's own programs (initdb, pg_ctl, pg_basebackup, pg_rewind) run as the PostgreSQL OS
 * user. Every failure becomes a {@link PghaException} with the tool's last line of output; the
 * full output goes to the command log.
 */
public final class PgCtl {
    public enum StopMode { SMART, FAST, IMMEDIATE }

    private static final Duration SLOW = Duration.ofMinutes(30);
    private static final Duration START = Duration.ofSeconds(120);

    private final PgBinaries bin;
    private final OsUser user;
    private final Path commandLog;

    public PgCtl(PgBinaries bin, OsUser user, Path commandLog) {
        this.bin = bin;
        this.user = user;
        this.commandLog = commandLog;
    }

    public OsUser user() {
        return user;
    }

    /**
     * A new data directory with data checksums (so pg_rewind works) and SCRAM-SHA-256 for every
     * connection; the superuser password travels through a file that only the OS user can read.
     */
    public void initdb(Path dataDir, String superuser, String password, String locale) {
        Path pwfile = dataDir.resolveSibling("initdb.pw");
        try {
            user.createPrivateDirectory(dataDir);
            Files.writeString(pwfile, password + "\n", StandardCharsets.UTF_8);
            Files.setPosixFilePermissions(pwfile, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
            user.chown(pwfile);
            check(run(List.of(bin.path("initdb"), "-D", dataDir.toString(), "-U", superuser, "--pwfile=" + pwfile,
                    "--data-checksums", "--auth-local=scram-sha-256", "--auth-host=scram-sha-256",
                    "--locale=" + locale, "--encoding=UTF8"), SLOW), "initdb");
        } catch (IOException e) {
            throw new PghaException("cannot prepare " + dataDir + ": " + e.getMessage(), e);
        } finally {
            try {
                Files.deleteIfExists(pwfile);
            } catch (IOException ignored) {
                // the file is inside the private instance directory either way
            }
        }
    }

    /**
     * Starts the server and waits until it accepts connections. {@code settings} go on the command
     * line, where they beat every configuration file: that is where instance identity lives, so
     * that pg_rewind, which copies configuration files between instances, cannot carry it across.
     */
    public void start(Path dataDir, Map<String, String> settings, Path serverLog) {
        StringBuilder options = new StringBuilder();
        settings.forEach((k, v) -> options.append(" -c ").append(shellQuote(k + "=" + v)));
        check(run(List.of(bin.path("pg_ctl"), "start", "-w", "-t", Long.toString(START.toSeconds()), "-D",
                dataDir.toString(), "-l", serverLog.toString(), "-o", options.toString().strip()), START.plusSeconds(10)),
                "pg_ctl start");
    }

    public void stop(Path dataDir, StopMode mode) {
        if (postmasterPid(dataDir).isEmpty()) {
            return;
        }
        Processes.Result result = run(List.of(bin.path("pg_ctl"), "stop", "-w", "-t", "60", "-D", dataDir.toString(),
                "-m", mode.name().toLowerCase()), Duration.ofSeconds(70));
        if (!result.ok() && postmasterPid(dataDir).isPresent()) {
            throw new PghaException("pg_ctl stop failed: " + result.lastLine());
        }
    }

    /**
     * Clones a running server into {@code dataDir} through a replication slot, streaming the WAL
     * needed for consistency alongside. The conninfo carries the passfile, never a password.
     */
    public void basebackup(String conninfo, Path dataDir, String slot) {
        try {
            user.createPrivateDirectory(dataDir);
        } catch (IOException e) {
            throw new PghaException("cannot create " + dataDir + ": " + e.getMessage(), e);
        }
        List<String> cmd = new ArrayList<>(List.of(bin.path("pg_basebackup"), "-D", dataDir.toString(), "-d", conninfo,
                "-X", "stream", "-c", "fast", "--no-password"));
        if (slot != null) {
            cmd.addAll(List.of("-S", slot));
        }
        check(run(cmd, SLOW), "pg_basebackup");
    }

    /**
     * Rewinds a stopped former primary onto the source's timeline. A primary that crashed is first
     * recovered by pg_rewind itself (it runs the server in single-user mode to a clean shutdown).
     */
    public Processes.Result rewind(Path dataDir, String sourceConninfo) {
        return run(List.of(bin.path("pg_rewind"), "-D", dataDir.toString(), "--source-server=" + sourceConninfo,
                "--progress"), SLOW);
    }

    /**
     * pg_controldata's "Database cluster state" of a stopped data directory: "shut down" after a
     * clean stop, "in production" after a crash, "shut down in recovery" for a standby.
     */
    public String clusterState(Path dataDir) {
        Processes.Result result = run(List.of(bin.path("pg_controldata"), "-D", dataDir.toString()), Duration.ofSeconds(30));
        check(result, "pg_controldata");
        return result.output().lines().filter(l -> l.startsWith("Database cluster state:"))
                .map(l -> l.substring(l.indexOf(':') + 1).strip()).findFirst().orElse("unknown");
    }

    /** The postmaster's PID from postmaster.pid, when that process is alive. */
    public static OptionalLong postmasterPid(Path dataDir) {
        try {
            List<String> lines = Files.readAllLines(dataDir.resolve("postmaster.pid"));
            long pid = Long.parseLong(lines.get(0).strip());
            return ProcessHandle.of(pid).filter(ProcessHandle::isAlive).map(h -> OptionalLong.of(pid))
                    .orElse(OptionalLong.empty());
        } catch (IOException | RuntimeException e) {
            // no file (stopped), unreadable, or half-written while the server starts
            return OptionalLong.empty();
        }
    }

    private Processes.Result run(List<String> command, Duration timeout) {
        return Processes.run(user.command(command), Map.of(), commandLog, timeout);
    }

    private static void check(Processes.Result result, String what) {
        if (!result.ok()) {
            throw new PghaException(what + " failed: " + result.lastLine());
        }
    }

    static String shellQuote(String s) {
        return "'" + s.replace("'", "'\\''") + "'";
    }
}
