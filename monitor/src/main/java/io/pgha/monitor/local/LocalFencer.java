package io.pgha.monitor.local;

import io.pgha.local.LocalLayout;
import io.pgha.local.OsUser;
import io.pgha.local.PgBinaries;
import io.pgha.local.PgCtl;
import io.pgha.local.Processes;
import io.pgha.api.postgres.Lsn;
import io.pgha.monitor.service.Fencer;
import org.jboss.logging.Logger;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.OptionalLong;

/**
 * Fencing on one machine: the old primary's processes are stopped for good.
 *
 * <ul>
 *   <li>Planned (switchover): {@code pg_ctl stop -m fast}. Sessions are terminated, never
 *   cancelled, and the WAL senders hand every remaining WAL record, the shutdown checkpoint
 *   included, to the connected standbys before they exit. The end of its WAL is then read with
 *   pg_controldata.</li>
 *   <li>Failover: {@code pg_ctl stop -m immediate} when the server still answers; when it does
 *   not (it hangs, or pg_ctl did not finish in time) the postmaster is frozen with SIGSTOP so it
 *   cannot fork, and it and every child get SIGKILL. A backend that waited for synchronous
 *   replication dies without acknowledging anything.</li>
 * </ul>
 */
public final class LocalFencer implements Fencer {
    private static final Logger LOG = Logger.getLogger(LocalFencer.class);
    private static final Duration IMMEDIATE_WAIT = Duration.ofSeconds(5);
    private static final Duration FAST_WAIT = Duration.ofSeconds(60);

    private final LocalLayout layout;
    private final PgCtl pgCtl;

    public LocalFencer(LocalLayout layout, PgBinaries bin, OsUser user) {
        this.layout = layout;
        this.pgCtl = new PgCtl(bin, user, layout.commandLog());
    }

    @Override
    public Result fence(String instance, boolean clean, boolean answers, Demotion demotion) {
        Path data = layout.dataDir(instance);
        if (clean) {
            Processes.Result stop = pgCtl.tryStop(data, PgCtl.StopMode.FAST, FAST_WAIT);
            if (PgCtl.postmasterPid(data).isPresent()) {
                return new Result(false, null, "pg_ctl stop -m fast failed: " + stop.lastLine());
            }
            Lsn end = pgCtl.controlData(data, "Latest checkpoint location").map(Lsn::parse).orElse(null);
            String demoted = "";
            if (demotion != null) {
                try {
                    // its WAL ends where the new timeline forks, so it can follow without a rewind
                    pgCtl.configureStandby(data, demotion.primaryConninfo(), demotion.slot());
                    demoted = ", left configured as a standby";
                } catch (io.pgha.local.PghaException e) {
                    LOG.warnf("cannot leave %s configured as a standby: %s", instance, e.getMessage());
                }
            }
            return new Result(true, end == null ? null : end.plus(1), "stopped cleanly, last checkpoint at " + end + demoted);
        }
        if (answers && PgCtl.postmasterPid(data).isPresent()) {
            Processes.Result stop = pgCtl.tryStop(data, PgCtl.StopMode.IMMEDIATE, IMMEDIATE_WAIT);
            if (PgCtl.postmasterPid(data).isEmpty()) {
                return new Result(true, null, "stopped with pg_ctl immediate");
            }
            LOG.warnf("pg_ctl stop -m immediate did not stop %s (%s): killing it", instance, stop.lastLine());
        }
        OptionalLong pid = PgCtl.postmasterPid(data);
        if (pid.isEmpty()) {
            return new Result(true, null, "not running");
        }
        return killTree(pid.getAsLong());
    }

    /** SIGSTOP the postmaster so that it forks nothing more, then SIGKILL its children and itself. */
    private Result killTree(long pid) {
        ProcessHandle postmaster = ProcessHandle.of(pid).orElse(null);
        if (postmaster == null) {
            return new Result(true, null, "not running");
        }
        signal("STOP", pid);
        List<ProcessHandle> children = postmaster.descendants().toList();
        children.forEach(ProcessHandle::destroyForcibly);
        postmaster.destroyForcibly();
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (System.nanoTime() < deadline) {
            if (gone(postmaster) && children.stream().allMatch(LocalFencer::gone)) {
                return new Result(true, null, "killed postmaster " + pid + " and " + children.size() + " children");
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        return new Result(false, null, "postmaster " + pid + " or a child survived SIGKILL");
    }

    /** Exited, or exited and not yet reaped by its parent (a zombie runs no code and holds no socket). */
    public static boolean gone(ProcessHandle p) {
        if (!p.isAlive()) {
            return true;
        }
        try {
            String stat = java.nio.file.Files.readString(Path.of("/proc", Long.toString(p.pid()), "stat"));
            int end = stat.lastIndexOf(')');
            return end > 0 && end + 2 < stat.length() && stat.charAt(end + 2) == 'Z';
        } catch (IOException | RuntimeException e) {
            return !p.isAlive();
        }
    }

    private static void signal(String signal, long pid) {
        try {
            Process p = new ProcessBuilder("kill", "-" + signal, Long.toString(pid)).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            p.waitFor();
        } catch (IOException e) {
            LOG.warnf("cannot send SIG%s to %d: %s", signal, pid, e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

}
