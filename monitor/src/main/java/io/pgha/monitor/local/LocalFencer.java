package io.pgha.monitor.local;

import io.pgha.local.LocalLayout;
import io.pgha.local.OsUser;
import io.pgha.local.PgBinaries;
import io.pgha.local.PgCtl;
import io.pgha.local.PghaException;
import io.pgha.local.Processes;
import io.pgha.api.postgres.Lsn;
import io.pgha.local.ServerProcesses;
import io.pgha.monitor.service.Fencer;
import org.jboss.logging.Logger;

import java.nio.file.Path;
import java.time.Duration;

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
 *   cannot fork, and it and every process of its data directory get SIGKILL, backends that
 *   outlived a dead postmaster included. A backend that waited for synchronous replication dies
 *   without acknowledging anything. Which processes those are comes from /proc
 *   ({@link ServerProcesses}), never from postmaster.pid alone, whose PID may belong to another
 *   process by now.</li>
 * </ul>
 */
public final class LocalFencer implements Fencer {
    private static final Logger LOG = Logger.getLogger(LocalFencer.class);
    private static final Duration IMMEDIATE_WAIT = Duration.ofSeconds(5);
    private static final Duration FAST_WAIT = Duration.ofSeconds(60);
    /** How long a postmaster that pg_ctl reported stopped may take to exit. */
    private static final Duration EXIT_WAIT = Duration.ofSeconds(5);

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
            // pg_ctl reports the stop once the lock file is gone, which the postmaster removes just
            // before it exits: on a loaded machine it was still there when looked at right after
            if (!ServerProcesses.awaitGone(data, stop.ok() ? EXIT_WAIT : Duration.ZERO)) {
                return new Result(false, null, "pg_ctl stop -m fast failed: " + stop.lastLine());
            }
            Lsn end = pgCtl.controlData(data, "Latest checkpoint location").map(Lsn::parse).orElse(null);
            String demoted = "";
            if (demotion != null) {
                try {
                    // its WAL ends where the new timeline forks, so it can follow without a rewind
                    pgCtl.configureStandby(data, demotion.primaryConninfo(), demotion.slot());
                    demoted = ", left configured as a standby";
                } catch (PghaException e) {
                    LOG.warnf("cannot leave %s configured as a standby: %s", instance, e.getMessage());
                }
            }
            return new Result(true, end == null ? null : end.plus(1), "stopped cleanly, last checkpoint at " + end + demoted);
        }
        if (answers && ServerProcesses.postmaster(data).isPresent()) {
            Processes.Result stop = pgCtl.tryStop(data, PgCtl.StopMode.IMMEDIATE, IMMEDIATE_WAIT);
            if (!ServerProcesses.running(data)) {
                return new Result(true, null, "stopped with pg_ctl immediate");
            }
            LOG.warnf("pg_ctl stop -m immediate did not stop %s (%s): killing it", instance, stop.lastLine());
        }
        if (!ServerProcesses.running(data)) {
            return new Result(true, null, "not running");
        }
        try {
            boolean orphans = ServerProcesses.postmaster(data).isEmpty();
            int killed = ServerProcesses.kill(data);
            return new Result(true, null, orphans ? "killed " + killed + " backends that outlived their postmaster"
                    : "killed the postmaster and " + (killed - 1) + " other processes");
        } catch (PghaException e) {
            return new Result(false, null, e.getMessage());
        }
    }
}
