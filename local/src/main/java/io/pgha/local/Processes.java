package io.pgha.local;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Runs external programs to completion with a timeout, output kept in a file. */
public final class Processes {
    private Processes() {
    }

    public record Result(int exitCode, String output) {
        public boolean ok() {
            return exitCode == 0;
        }

        /** The last non-empty line of output, which is where PostgreSQL's tools say what went wrong. */
        public String lastLine() {
            String[] lines = output.strip().split("\n");
            return lines.length == 0 ? "" : lines[lines.length - 1].strip();
        }
    }

    /**
     * Runs {@code command}, appending its output to {@code log}, with the extra environment
     * variables given. Returns the exit code and the output of this run.
     */
    public static Result run(List<String> command, Map<String, String> env, Path log, Duration timeout) {
        try {
            Path out = Files.createTempFile("pgha-cmd", ".out");
            try {
                ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true)
                        .redirectOutput(out.toFile()).redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()));
                pb.environment().putAll(env);
                Process p = pb.start();
                if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                    p.descendants().forEach(ProcessHandle::destroyForcibly);
                    p.destroyForcibly();
                    throw new PghaException(command.get(command.indexOf("--") + 1) + " did not finish within " + timeout);
                }
                String output = Files.readString(out, StandardCharsets.UTF_8);
                if (log != null) {
                    Files.createDirectories(log.getParent());
                    Files.writeString(log, "$ " + String.join(" ", command) + "\n" + output,
                            StandardCharsets.UTF_8, java.nio.file.StandardOpenOption.CREATE,
                            java.nio.file.StandardOpenOption.APPEND);
                }
                return new Result(p.exitValue(), output);
            } finally {
                Files.deleteIfExists(out);
            }
        } catch (IOException e) {
            throw new PghaException("cannot run " + command.get(0) + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new PghaException("interrupted while running " + command.get(0), e);
        }
    }
}
