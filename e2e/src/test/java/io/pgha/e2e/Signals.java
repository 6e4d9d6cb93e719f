package io.pgha.e2e;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.awaitility.Awaitility.await;

/** Signals to processes by PID, through kill(1). */
public final class Signals {
    private Signals() {
    }

    /** Sends {@code signal} to every PID; true when kill(1) reached them all (false: some PID was gone). */
    public static boolean send(String signal, long... pids) {
        String[] cmd = new String[pids.length + 2];
        cmd[0] = "kill";
        cmd[1] = "-" + signal;
        for (int i = 0; i < pids.length; i++) {
            cmd[i + 2] = Long.toString(pids[i]);
        }
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor() == 0;
        } catch (IOException e) {
            throw new AssertionError("kill -" + signal + ": " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    public static boolean send(String signal, List<Long> pids) {
        return pids.isEmpty() || send(signal, pids.stream().mapToLong(Long::longValue).toArray());
    }

    /**
     * A PostgreSQL server's postmaster and its children: SIGSTOP to all of them hangs the server
     * (the postmaster alone would leave open sessions answering).
     */
    public static List<Long> server(long postmaster) {
        List<Long> pids = new ArrayList<>(List.of(postmaster));
        ProcessHandle.of(postmaster).orElseThrow(() -> new AssertionError("no process " + postmaster))
                .children().forEach(child -> pids.add(child.pid()));
        return pids;
    }

    /** Those of PIDS still running (a thaw skips what died meanwhile). */
    public static List<Long> alive(List<Long> pids) {
        return pids.stream().filter(pid -> ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)).toList();
    }

    /** SIGKILL, then wait until the process is gone from /proc (reaped by its parent). */
    public static void kill(long pid) {
        send("KILL", pid);
        await("PID " + pid + " reaped").atMost(Duration.ofSeconds(30)).until(() -> !Files.exists(Path.of("/proc/" + pid)));
    }
}
