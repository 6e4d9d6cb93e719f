package io.pgha.backup.local;

import io.pgha.api.postgres.Lsn;
import io.pgha.backup.core.DrillSettings;
import io.pgha.backup.core.RecoveryLog;
import io.pgha.local.OsUser;
import io.pgha.local.PgBinaries;
import io.pgha.local.PgCtl;
import io.pgha.local.PghaException;
import io.pgha.local.Ports;
import io.pgha.local.ServerProcesses;
import io.pgha.local.StateFiles;
import io.pgha.local.WalToken;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.function.Consumer;
import java.util.function.LongConsumer;
import java.util.stream.Stream;

/**
 * One restore drill's scratch copy of a backup, on this machine: the base tar extracted as the
 * PostgreSQL OS user, checked by pg_verifybackup against the backup's manifest, then started as
 * an archive recovery to the first consistent state (see {@link DrillSettings}), which shuts
 * itself down there. Closing it stops a server still running and deletes the copy.
 */
public final class RestoreDrill implements AutoCloseable {
    /** PostgreSQL's file that makes a start an archive recovery. */
    private static final String COMMAND_LOG = "commands.log";
    private static final Duration POLL = Duration.ofMillis(300);

    private final PgCtl pgCtl;
    private final OsUser user;
    private final PgBinaries bin;
    private final Path scratch;
    private final Path data;
    /** The drill's own WAL token, which its restore_command sends (see {@link #walToken}). */
    private final Path tokenFile;
    private Process server;

    private RestoreDrill(PgBinaries bin, OsUser user, Path drills, Path scratch) {
        this.bin = bin;
        this.user = user;
        this.pgCtl = new PgCtl(bin, user, drills.resolve(COMMAND_LOG));
        this.scratch = scratch;
        this.data = scratch.resolve("data");
        this.tokenFile = scratch.resolve("wal-token.header");
    }

    /** A fresh scratch directory under {@code drills} (which the PostgreSQL OS user must be able to traverse). */
    public static RestoreDrill create(Path drills, String cluster) {
        OsUser user = OsUser.forPostgres();
        Path scratch = drills.resolve(cluster + "-" + UUID.randomUUID().toString().substring(0, 8));
        try {
            StateFiles.createDirectories(drills, StateFiles.READABLE_DIR);
            user.createPrivateDirectory(scratch);
        } catch (IOException e) {
            throw new PghaException("cannot create the drill's scratch directory " + scratch + ": " + e.getMessage(), e);
        }
        return new RestoreDrill(PgBinaries.locate(), user, drills, scratch);
    }

    /**
     * Removes what drills left behind when this service died during one: their servers are
     * stopped and their copies deleted.
     */
    public static void removeLeftovers(Path drills) {
        if (!Files.isDirectory(drills)) {
            return;
        }
        try (Stream<Path> dirs = Files.list(drills)) {
            for (Path dir : dirs.filter(Files::isDirectory).toList()) {
                new RestoreDrill(PgBinaries.locate(), OsUser.forPostgres(), drills, dir).close();
            }
        } catch (IOException e) {
            throw new PghaException("cannot list " + drills + ": " + e.getMessage(), e);
        }
    }

    public Path scratch() {
        return scratch;
    }

    /**
     * A new random token, kept in the copy's own header file (the PostgreSQL OS user's, deleted
     * with the copy) for its restore_command: the service must accept it for this drill's fetches.
     */
    public String walToken() {
        return WalToken.create(tokenFile, user);
    }

    /** Extracts the (decompressed) base tar into the data directory; PghaException when tar fails or the stream does. */
    public void extract(InputStream tar, LongConsumer counted) {
        pgCtl.extractTar(tar, data, counted);
    }

    /** What pg_verifybackup finds wrong with the extracted files against {@code manifest}, empty when they match. */
    public Optional<String> checkManifest(byte[] manifest) {
        Path file = scratch.resolve("backup_manifest");
        StateFiles.replace(file, manifest, StateFiles.PRIVATE, user::chown);
        try {
            pgCtl.verifyBackup(data, file);
            return Optional.empty();
        } catch (PghaException e) {
            return Optional.of(e.getMessage().replaceFirst("^pg_verifybackup failed: (pg_verifybackup: )?(error: )?", ""));
        }
    }

    /**
     * Starts the copy as an archive recovery fetching WAL from {@code walEndpoint} and follows its
     * log until it is consistent at or after {@code backupEnd} and has stopped, it failed, or
     * {@code timeout} passed; {@code progress} hears of each WAL segment restored.
     */
    public RecoveryLog.Verdict recover(Lsn backupEnd, URI walEndpoint, Duration timeout, Consumer<String> progress) {
        Path log = scratch.resolve("server.log");
        try {
            // the tar carries no WAL: it all comes through restore_command
            user.createPrivateDirectory(PgCtl.archiveStatus(data));
            // the source's configuration names its ports, certificates and archive_command: none of it belongs here
            StateFiles.replace(data.resolve("postgresql.conf"),
                    "# a pgha restore drill: every setting is on the command line\n".getBytes(StandardCharsets.UTF_8),
                    StateFiles.PRIVATE, user::chown);
        } catch (IOException e) {
            throw new PghaException("cannot prepare the drill's copy in " + data + ": " + e.getMessage(), e);
        }
        pgCtl.configureRecovery(data, false);
        List<String> command = new ArrayList<>(List.of(bin.path("postgres"), "-D", data.toString()));
        Map<String, String> settings = DrillSettings.of(Ports.freePort(), scratch.toString(),
                DrillSettings.restoreCommand(walEndpoint, tokenFile));
        settings.forEach((k, v) -> command.addAll(List.of("-c", k + "=" + v)));
        try {
            server = new ProcessBuilder(user.command(command)).redirectErrorStream(true)
                    .redirectOutput(log.toFile()).redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
                    .start();
        } catch (IOException e) {
            throw new PghaException("cannot start postgres for the drill: " + e.getMessage(), e);
        }
        RecoveryLog recovery = new RecoveryLog();
        Instant deadline = Instant.now().plus(timeout);
        String reported = null;
        try (BufferedReader lines = Files.newBufferedReader(log, StandardCharsets.UTF_8)) {
            while (true) {
                boolean gone = !server.isAlive();
                for (String line; (line = lines.readLine()) != null; ) {
                    recovery.accept(line);
                }
                RecoveryLog.Verdict v = recovery.verdict(backupEnd, gone);
                if (!(v instanceof RecoveryLog.Replaying replaying)) {
                    return v;
                }
                if (gone) {
                    return new RecoveryLog.Failed("the server exited during recovery");
                }
                String segment = replaying.lastRestored().orElse(null);
                if (segment != null && !segment.equals(reported)) {
                    progress.accept("replaying WAL: restored segment " + segment);
                    reported = segment;
                }
                if (Instant.now().isAfter(deadline)) {
                    return new RecoveryLog.Failed("no consistent state within " + timeout.toSeconds() + " s"
                            + (segment == null ? "" : " (last WAL segment restored: " + segment + ")"));
                }
                Thread.sleep(POLL.toMillis());
            }
        } catch (IOException e) {
            throw new PghaException("cannot read the drill server's log " + log + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new PghaException("interrupted during the drill's recovery", e);
        }
    }

    /** Stops a server still running in the copy and deletes it. */
    @Override
    public void close() {
        if (Files.isDirectory(data)) {
            pgCtl.stop(data, PgCtl.StopMode.IMMEDIATE);
        }
        if (server != null) {
            server.destroy();
        }
        try {
            StateFiles.deleteTree(scratch);
        } catch (IOException e) {
            throw new PghaException("cannot delete the drill's copy " + scratch + ": " + e.getMessage(), e);
        }
    }
}
