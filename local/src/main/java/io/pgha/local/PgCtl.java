package io.pgha.local;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * PostgreSQL's own programs (initdb, pg_ctl, pg_basebackup, pg_rewind) run as the PostgreSQL OS
 * user. Every failure becomes a {@link PghaException} with the tool's last line of output; the
 * full output goes to the command log.
 */
public final class PgCtl {
    public enum StopMode { SMART, FAST, IMMEDIATE }

    private static final Duration SLOW = Duration.ofMinutes(30);
    private static final Duration START = Duration.ofSeconds(120);
    /** How long a stop waits for a dead postmaster's parent to reap it before giving up. */
    private static final Duration REAP_WAIT = Duration.ofSeconds(30);
    /**
     * tar's record, in 512-byte blocks, when it extracts from a pipe: 64 KiB, one read per write of
     * {@link #extractTar}'s copy loop, where tar's default of 10 KiB made six reads of each. A 2 GB base
     * backup extracted in 1.8-1.9 s instead of 2.1-2.5 s (three runs each, caches written out between).
     */
    private static final int TAR_RECORD_BLOCKS = 128;
    private static final int TAR_BLOCK_BYTES = 512;

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
            StateFiles.replace(pwfile, (password + "\n").getBytes(StandardCharsets.UTF_8), StateFiles.PRIVATE, user::chown);
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

    /**
     * Stops the server. Backends left behind by a postmaster that died are killed: pg_ctl cannot
     * reach them, they may still finish a transaction, and a new postmaster refuses to start while
     * they hold the shared memory. On return no process PostgreSQL's lock file check would see is
     * left: a postmaster that was killed has also been reaped.
     */
    public void stop(Path dataDir, StopMode mode) {
        if (ServerProcesses.postmaster(dataDir).isPresent()) {
            Processes.Result result = tryStop(dataDir, mode, Duration.ofSeconds(60));
            if (!result.ok() && ServerProcesses.postmaster(dataDir).isPresent()) {
                throw new PghaException("pg_ctl stop failed: " + result.lastLine());
            }
        }
        if (!ServerProcesses.all(dataDir).isEmpty()) {
            ServerProcesses.kill(dataDir);
        }
        ServerProcesses.awaitReaped(dataDir, REAP_WAIT);
    }

    /**
     * pg_ctl stop, waiting at most {@code wait}; returns what pg_ctl said instead of throwing, for
     * callers (fencing) that decide themselves what to do when the server is still there. pg_ctl
     * signals whatever PID postmaster.pid names, so it runs only when that is this directory's postmaster.
     */
    public Processes.Result tryStop(Path dataDir, StopMode mode, Duration wait) {
        if (ServerProcesses.postmaster(dataDir).isEmpty()) {
            return new Processes.Result(1, "no postmaster of " + dataDir + " is running");
        }
        try {
            return run(List.of(bin.path("pg_ctl"), "stop", "-w", "-t", Long.toString(wait.toSeconds()), "-D",
                    dataDir.toString(), "-m", mode.name().toLowerCase()), wait.plusSeconds(10));
        } catch (PghaException e) {
            return new Processes.Result(-1, e.getMessage());
        }
    }

    /**
     * Makes a stopped data directory start as a standby of {@code conninfo} through {@code slot}:
     * standby.signal, and the primary connection in postgresql.auto.conf (where ALTER SYSTEM can
     * change it later), written owner-only for the PostgreSQL user.
     */
    public void configureStandby(Path dataDir, String conninfo, String slot) {
        Path auto = dataDir.resolve("postgresql.auto.conf");
        StringBuilder content = new StringBuilder();
        try {
            if (Files.exists(auto)) {
                Files.readAllLines(auto).stream()
                        .filter(l -> !l.startsWith("primary_conninfo") && !l.startsWith("primary_slot_name"))
                        .forEach(l -> content.append(l).append('\n'));
            }
            content.append("primary_conninfo = '").append(conninfo.replace("'", "''")).append("'\n");
            content.append("primary_slot_name = '").append(slot.replace("'", "''")).append("'\n");
            writeOwned(auto, content.toString());
            writeOwned(dataDir.resolve(STANDBY_SIGNAL), "");
        } catch (IOException e) {
            throw new PghaException("cannot configure " + dataDir + " as a standby: " + e.getMessage(), e);
        }
    }

    /**
     * The file whose presence starts a targeted archive recovery (PostgreSQL 12+). PostgreSQL
     * removes it as recovery ends, unless standby.signal was there too: then only that one.
     */
    public static final String RECOVERY_SIGNAL = "recovery.signal";
    /** The file whose presence starts a server in standby mode; PostgreSQL removes it at promotion. */
    public static final String STANDBY_SIGNAL = "standby.signal";
    /** What PostgreSQL puts in {@link #archiveStatus} beside a WAL file's name once it waits to be archived. */
    public static final String READY_SUFFIX = ".ready";
    /** What PostgreSQL puts there once a WAL file was archived (pg_basebackup too, for each one it streamed whole: see {@link #basebackup}). */
    private static final String DONE_SUFFIX = ".done";

    /** Where PostgreSQL marks a data directory's WAL files as waiting to be archived (.ready) or archived (.done). */
    public static Path archiveStatus(Path dataDir) {
        return dataDir.resolve("pg_wal").resolve("archive_status");
    }

    /**
     * Makes a restored data directory start as an archive recovery rather than as a copy of its
     * source's role: recovery.signal, and no primary connection left over from the source in
     * postgresql.auto.conf. The recovery settings themselves go on the command line of that start.
     * With {@code holdAtEnd}, standby.signal beside it, which takes precedence: the server then
     * does not end recovery by itself once the archive has nothing more, but waits there to be
     * promoted. Ending by itself waits for the restartpoint that replay started and for an
     * end-of-recovery checkpoint (1.4 s from "redo done" to accepting connections at scale 130
     * here), a promotion for neither (0.1 s). Without it, no standby.signal.
     */
    public void configureRecovery(Path dataDir, boolean holdAtEnd) {
        Path auto = dataDir.resolve("postgresql.auto.conf");
        try {
            if (Files.exists(auto)) {
                StringBuilder content = new StringBuilder();
                Files.readAllLines(auto).stream()
                        .filter(l -> !l.startsWith("primary_conninfo") && !l.startsWith("primary_slot_name"))
                        .forEach(l -> content.append(l).append('\n'));
                writeOwned(auto, content.toString());
            }
            Files.deleteIfExists(dataDir.resolve(STANDBY_SIGNAL));
            writeOwned(dataDir.resolve(RECOVERY_SIGNAL), "");
            if (holdAtEnd) {
                writeOwned(dataDir.resolve(STANDBY_SIGNAL), "");
            }
        } catch (IOException e) {
            throw new PghaException("cannot configure " + dataDir + " for recovery: " + e.getMessage(), e);
        }
    }

    /**
     * Extracts a tar stream into {@code dir} as the PostgreSQL OS user, so that every file is
     * its own; {@code counted} is told the bytes read so far as they go by.
     */
    public void extractTar(java.io.InputStream tar, Path dir, java.util.function.LongConsumer counted) {
        Process p;
        try {
            user.createPrivateDirectory(dir);
            List<String> tarCommand = List.of("tar", "-x", "-b", Integer.toString(TAR_RECORD_BLOCKS), "-f", "-", "-C", dir.toString());
            p = new ProcessBuilder(user.command(tarCommand))
                    .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(commandLog.toFile())).start();
        } catch (IOException e) {
            throw new PghaException("cannot start tar to extract into " + dir + ": " + e.getMessage(), e);
        }
        long total = 0;
        byte[] buffer = new byte[TAR_RECORD_BLOCKS * TAR_BLOCK_BYTES];
        try (java.io.OutputStream out = p.getOutputStream()) {
            int n;
            while ((n = tar.read(buffer)) >= 0) {
                out.write(buffer, 0, n);
                total += n;
                counted.accept(total);
            }
        } catch (IOException e) {
            // tar's input is closed: it stops at that end. Wait for it, so that nothing writes into dir once this
            // returns (the caller deletes it); killing the process, runuser when this runs as root, would leave
            // tar itself running as the PostgreSQL OS user
            awaitEnd(p);
            // a failed stream may say only "closed" (the JDK HTTP client does): the cause says why
            String why = e.getCause() == null ? e.getMessage() : e.getMessage() + " (" + e.getCause() + ")";
            throw new PghaException("extracting the base backup into " + dir + " failed after " + total + " bytes: "
                    + why, e);
        }
        try {
            if (!p.waitFor(SLOW.toMinutes(), java.util.concurrent.TimeUnit.MINUTES) || p.exitValue() != 0) {
                awaitEnd(p);
                throw new PghaException("tar could not extract the base backup into " + dir + " (see " + commandLog + ")");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new PghaException("interrupted while extracting into " + dir, e);
        }
    }

    /** Lets a process whose input has ended finish, and kills it (then waits for that) when it does not within a minute. */
    private static void awaitEnd(Process p) {
        try {
            if (!p.waitFor(1, java.util.concurrent.TimeUnit.MINUTES)) {
                p.destroyForcibly().waitFor(10, java.util.concurrent.TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** pg_verifybackup of an extracted plain data directory against its backup_manifest (WAL comes from the archive). */
    public void verifyBackup(Path dataDir, Path manifest) {
        check(run(List.of(bin.path("pg_verifybackup"), "--no-parse-wal", "--manifest-path=" + manifest, dataDir.toString()),
                SLOW), "pg_verifybackup");
    }

    /**
     * Runs a SQL file with psql as the PostgreSQL OS user over the unix socket, stopping at the
     * first error: for the superuser's peer login while a restored catalog holds another cluster's passwords.
     */
    public Processes.Result psqlAsOsUser(Path socketDir, int port, String superuser, Path sqlFile) {
        return run(List.of(bin.path("psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", socketDir.toString(), "-p",
                Integer.toString(port), "-U", superuser, "-d", "postgres", "-f", sqlFile.toString()), Duration.ofMinutes(2));
    }

    /** One query's single-line, unaligned answer, as {@link #psqlAsOsUser}. */
    public Processes.Result queryAsOsUser(Path socketDir, int port, String superuser, String sql) {
        return run(List.of(bin.path("psql"), "-X", "-A", "-t", "-h", socketDir.toString(), "-p", Integer.toString(port),
                "-U", superuser, "-d", "postgres", "-c", sql), Duration.ofSeconds(30));
    }

    /** Replaces {@code file} atomically with content only the PostgreSQL user can read. */
    private void writeOwned(Path file, String content) {
        StateFiles.replace(file, content.getBytes(StandardCharsets.UTF_8), StateFiles.PRIVATE, user::chown);
    }

    /**
     * Clones a running server into {@code dataDir} through a replication slot, streaming the WAL
     * needed for consistency alongside. The conninfo carries the passfile, never a password.
     * pg_basebackup marks each WAL file it streamed whole as archived ({@code .done}); the clone
     * marks them waiting ({@code .ready}) instead, so that it archives them too (pgha's instances
     * run archive_mode = always, and a push of what the archive already holds succeeds). Otherwise
     * a primary that could not archive them and died would leave them nowhere: a hole in the
     * archive after the failover.
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
        markStreamedWalWaiting(dataDir);
    }

    private static void markStreamedWalWaiting(Path dataDir) {
        Path status = archiveStatus(dataDir);
        try (DirectoryStream<Path> marks = Files.newDirectoryStream(status, "*" + DONE_SUFFIX)) {
            for (Path done : marks) {
                String name = done.getFileName().toString();
                // a rename keeps the file's owner, the PostgreSQL user, when this runs as root
                Files.move(done, status.resolve(name.substring(0, name.length() - DONE_SUFFIX.length()) + READY_SUFFIX));
            }
        } catch (IOException e) {
            throw new PghaException("cannot mark the WAL the clone streamed as waiting to be archived in " + status + ": "
                    + e.getMessage(), e);
        }
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
        return controlData(dataDir, "Database cluster state")
                .orElseThrow(() -> new PghaException("pg_controldata shows no cluster state for " + dataDir));
    }

    /** One field of pg_controldata's report (for example "Latest checkpoint location"), if it can be read. */
    public Optional<String> controlData(Path dataDir, String field) {
        // the C locale, so that the field names are the English ones parsed here
        Processes.Result result = Processes.run(user.command(List.of(bin.path("pg_controldata"), "-D", dataDir.toString())),
                Map.of("LC_ALL", "C"), commandLog, Duration.ofSeconds(30));
        if (!result.ok()) {
            return Optional.empty();
        }
        return result.output().lines().filter(l -> l.startsWith(field + ":"))
                .map(l -> l.substring(l.indexOf(':') + 1).strip()).findFirst();
    }

    private Processes.Result run(List<String> command, Duration timeout) {
        return Processes.run(user.command(command), Map.of(), commandLog, timeout);
    }

    private static void check(Processes.Result result, String what) {
        if (!result.ok()) {
            throw new PghaException(what + " failed: " + result.lastLine());
        }
    }

    /** One word for sh, whatever it holds. */
    public static String shellQuote(String s) {
        return "'" + s.replace("'", "'\\''") + "'";
    }
}
