package io.pgha.e2e.faults;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import static org.awaitility.Awaitility.await;

/** Signals to processes by PID, through kill(1). */
final class Signals {
    private Signals() {
    }

    static void send(String signal, long... pids) {
        String[] cmd = new String[pids.length + 2];
        cmd[0] = "kill";
        cmd[1] = "-" + signal;
        for (int i = 0; i < pids.length; i++) {
            cmd[i + 2] = Long.toString(pids[i]);
        }
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            p.waitFor();
        } catch (IOException e) {
            throw new AssertionError("kill -" + signal + ": " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    /** SIGKILL, then wait until the process is gone from /proc (reaped by its parent). */
    static void kill(long pid) {
        send("KILL", pid);
        await("PID " + pid + " reaped").atMost(Duration.ofSeconds(30)).until(() -> !Files.exists(Path.of("/proc/" + pid)));
    }
}
