package io.pgha.k8se2e;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs the short root commands the pod runner is made of (ip, mount, openssl) and fails loudly when one fails. */
final class Sh {
    static final int TIMEOUT_SECONDS = 60;

    /** What a finished command printed and returned. */
    record Result(int exit, String output) {
        boolean ok() {
            return exit == 0;
        }
    }

    private Sh() {
    }

    static Result run(List<String> command, int timeoutSeconds) {
        return run(new ProcessBuilder(command), timeoutSeconds);
    }

    /** As {@link #run(List, int)}, with the builder's environment and directory. */
    static Result run(ProcessBuilder builder, int timeoutSeconds) {
        List<String> command = builder.command();
        try {
            Process p = builder.redirectErrorStream(true).start();
            p.getOutputStream().close();
            if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly();
                return new Result(124, "timed out after " + timeoutSeconds + " s: " + String.join(" ", command));
            }
            return new Result(p.exitValue(), new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted: " + String.join(" ", command), e);
        }
    }

    /** Runs a command that must succeed and returns its output. */
    static String must(String... command) {
        Result r = run(List.of(command), TIMEOUT_SECONDS);
        if (!r.ok()) {
            throw new IllegalStateException(String.join(" ", command) + " exited with " + r.exit() + ": " + r.output().strip());
        }
        return r.output();
    }

    /** Runs a cleanup command whose failure does not matter (the thing may already be gone). */
    static void quietly(String... command) {
        run(List.of(command), TIMEOUT_SECONDS);
    }
}
