package io.pgha.backup.local;

import io.pgha.local.LocalSecrets;
import io.pgha.local.PgBinaries;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * pg_basebackup writing the data directory as one tar stream to its standard output (no WAL:
 * the archive has it), with a fast checkpoint so that the backup starts at once. The password
 * travels in the environment, never on the command line. Its standard error is kept (the last
 * part) to say why it failed.
 */
public final class PgBaseBackupProcess implements AutoCloseable {
    private static final int STDERR_KEPT = 8192;
    private static final String CONNECT_TIMEOUT_SECONDS = "10";

    private final Process process;
    private final StringBuilder stderr = new StringBuilder();
    private final Thread stderrReader;

    private PgBaseBackupProcess(Process process) {
        this.process = process;
        this.stderrReader = new Thread(this::drainStderr, "pg_basebackup-stderr");
        stderrReader.setDaemon(true);
        stderrReader.start();
    }

    public static PgBaseBackupProcess start(PgBinaries bin, String host, int port, LocalSecrets.Credentials user)
            throws IOException {
        ProcessBuilder pb = new ProcessBuilder(List.of(bin.path("pg_basebackup"), "-h", host, "-p", Integer.toString(port),
                "-U", user.username(), "-D", "-", "-F", "t", "-X", "none", "--checkpoint=fast", "--no-password"))
                .redirectInput(ProcessBuilder.Redirect.from(java.nio.file.Path.of("/dev/null").toFile()));
        pb.environment().put("PGPASSWORD", user.password());
        pb.environment().put("PGCONNECT_TIMEOUT", CONNECT_TIMEOUT_SECONDS);
        pb.environment().put("PGAPPNAME", "pgha_backup");
        return new PgBaseBackupProcess(pb.start());
    }

    /** The tar stream. */
    public InputStream stdout() {
        return process.getInputStream();
    }

    /** Waits for pg_basebackup to exit; IOException with its last words when it failed. */
    public void checkExit() throws IOException {
        try {
            int code = process.waitFor();
            stderrReader.join(TimeUnit.SECONDS.toMillis(5));
            if (code != 0) {
                throw new IOException("pg_basebackup exited with " + code + ": " + lastLine());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while pg_basebackup ran", e);
        }
    }

    /** The last line pg_basebackup wrote to standard error. */
    public String lastLine() {
        synchronized (stderr) {
            String[] lines = stderr.toString().strip().split("\n");
            return lines.length == 0 || lines[lines.length - 1].isBlank() ? "(no message)" : lines[lines.length - 1].strip();
        }
    }

    private void drainStderr() {
        byte[] buf = new byte[4096];
        try (InputStream err = process.getErrorStream()) {
            for (int n; (n = err.read(buf)) >= 0; ) {
                synchronized (stderr) {
                    stderr.append(new String(buf, 0, n, StandardCharsets.UTF_8));
                    if (stderr.length() > STDERR_KEPT) {
                        stderr.delete(0, stderr.length() - STDERR_KEPT);
                    }
                }
            }
        } catch (IOException e) {
            // the process is gone; what was read is what there is
        }
    }

    /** Stops pg_basebackup if it still runs (a backup given up on). */
    @Override
    public void close() {
        if (process.isAlive()) {
            process.destroyForcibly();
        }
    }
}
