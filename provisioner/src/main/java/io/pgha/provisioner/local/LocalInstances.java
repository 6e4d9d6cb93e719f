package io.pgha.provisioner.local;

import io.pgha.api.ClusterNames;
import io.pgha.api.RouterAuth;
import io.pgha.api.v1.cluster.ProvisioningStatus;
import io.pgha.local.LocalLayout;
import io.pgha.local.LocalSecrets.Credentials;
import io.pgha.local.OsUser;
import io.pgha.local.Pauses;
import io.pgha.local.PgCtl;
import io.pgha.local.PghaException;
import io.pgha.local.Processes;
import io.pgha.local.ServerProcesses;
import io.pgha.local.Sql;
import io.pgha.local.StateFiles;
import io.pgha.provisioner.model.PostgresConfig;
import org.postgresql.PGConnection;
import org.postgresql.util.PasswordUtil;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The local platform's instances: PostgreSQL data directories under $PGHA_HOME run by pg_ctl as
 * the PostgreSQL OS user, listening on loopback only. Each method is one provisioning step.
 */
final class LocalInstances {
    private static final List<String> LOOPBACK = List.of("127.0.0.1/32", "::1/128");
    private static final java.time.Duration REPLAY_POLL = java.time.Duration.ofSeconds(1);
    private static final java.time.Duration PROMOTION_POLL = java.time.Duration.ofMillis(100);
    /**
     * The startup process's wait event between two rounds of looking for the next WAL in every
     * source: held at the end, where a recovery that ends by itself would have ended.
     */
    private static final String ARCHIVE_EXHAUSTED = "RecoveryRetrieveRetryInterval";
    /**
     * Asks for the promotion and waits until the server accepts writes (PostgreSQL looks ten times
     * a second); an error when that takes a minute.
     */
    private static final String PROMOTE_AND_WAIT = "DO $$BEGIN IF NOT pg_promote(true, 60) THEN"
            + " RAISE EXCEPTION 'the promotion did not finish within 60 s'; END IF; END$$;\n";
    private static final java.time.Duration PROGRESS_INTERVAL = java.time.Duration.ofSeconds(1);
    private static final java.time.Duration RELOAD_WAIT = java.time.Duration.ofSeconds(5);
    private static final java.time.Duration RELOAD_POLL = java.time.Duration.ofMillis(20);
    private static final java.time.Duration ARCHIVE_DRAIN_WAIT = java.time.Duration.ofSeconds(30);
    private static final org.jboss.logging.Logger LOG = org.jboss.logging.Logger.getLogger(LocalInstances.class);

    private final LocalLayout layout;
    private final PgCtl pgCtl;
    private final OsUser user;

    LocalInstances(LocalLayout layout, PgCtl pgCtl) {
        this.layout = layout;
        this.pgCtl = pgCtl;
        this.user = pgCtl.user();
    }

    int port(int serial) {
        return layout.instancePort(serial);
    }

    Path dataDir(String instance) {
        return layout.dataDir(instance);
    }

    boolean exists(String instance) {
        return Files.exists(layout.dataDir(instance).resolve("PG_VERSION"));
    }

    /** A postmaster of the instance's data directory is alive, or backends that outlived it are. */
    boolean running(String instance) {
        return ServerProcesses.running(layout.dataDir(instance));
    }

    /** initdb with checksums, configuration, start, then the roles and the application database. */
    void createPrimary(String instance, int serial, String locale, Map<String, String> shared, Credentials superuser,
                       Credentials replication, Credentials app, Credentials routerAuth) {
        // nothing was recorded for this instance, so whatever a failed earlier attempt left holds no data
        discardUnrecorded(instance);
        prepareInstanceDir(instance, replication);
        pgCtl.initdb(layout.dataDir(instance), superuser.username(), superuser.password(), locale);
        writeConfig(instance, shared);
        start(instance, serial);
        try (Connection c = Sql.connect(port(serial), superuser, "postgres"); Statement s = c.createStatement()) {
            PGConnection pg = c.unwrap(PGConnection.class);
            // in quorum mode no standby exists yet to confirm these commits
            s.execute("SET synchronous_commit TO local");
            s.execute("CREATE ROLE " + replication.username() + " WITH LOGIN REPLICATION");
            // the driver computes the SCRAM verifier, so no password ever reaches the server or its log
            pg.alterUserPassword(replication.username(), replication.password().toCharArray(), "scram-sha-256");
            s.execute("CREATE ROLE " + app.username() + " WITH LOGIN");
            pg.alterUserPassword(app.username(), app.password().toCharArray(), "scram-sha-256");
            s.execute("CREATE DATABASE " + app.database() + " OWNER " + app.username());
            // the router looks up SCRAM verifiers through one function and can read nothing else
            s.execute("CREATE ROLE " + routerAuth.username() + " WITH LOGIN");
            pg.alterUserPassword(routerAuth.username(), routerAuth.password().toCharArray(), "scram-sha-256");
            s.execute(RouterAuth.setupSql(routerAuth.username()));
        } catch (SQLException e) {
            throw new PghaException("cannot create the roles on " + instance + ": " + e.getMessage(), e);
        }
    }

    /**
     * The primary of a restored cluster: the chosen base backup streamed from the backup service
     * and extracted as the PostgreSQL OS user, checked against its backup_manifest, then started as
     * an archive recovery that replays WAL to the target and promotes on a new timeline. Then the
     * roles get THIS cluster's passwords (the restored catalog holds the source's) and the router's
     * lookup function is made again. Returns the new timeline.
     *
     * @throws RestoreFailedException when the backup does not verify or recovery stops
     */
    int restorePrimary(String instance, int serial, Map<String, String> shared, Map<String, String> recovery,
                       BackupServiceClient source, String cluster, BackupServiceClient.Planned plan, Consumer<String> progress,
                       Credentials superuser, Credentials replication, Credentials app, Credentials routerAuth) {
        discardUnrecorded(instance);
        prepareInstanceDir(instance, replication);
        Path data = layout.dataDir(instance);
        String what = "base backup " + plan.backup();
        ProgressThrottle throttle = new ProgressThrottle();
        WriteBack writeBack = WriteBack.start(layout.instanceDir(instance));
        try {
            // the backup service checks every file against the backup's backup_manifest on the way
            source.extract(cluster, instance, bytes -> throttle.maybe(() -> progress.accept("fetching " + what + ": "
                    + mib(bytes) + " of " + mib(plan.dataBytes()))));
        } catch (PghaException e) {
            throw new RestoreFailedException("fetching " + what + " failed: " + e.getMessage());
        } finally {
            writeBack.await();
        }
        try {
            // the tar carries no WAL: it all comes from the archive
            Path archiveStatus = PgCtl.archiveStatus(data);
            user.createPrivateDirectory(archiveStatus.getParent());
            user.createPrivateDirectory(archiveStatus);
        } catch (IOException e) {
            throw new PghaException("cannot create pg_wal in " + data + ": " + e.getMessage(), e);
        }
        boolean toArchiveEnd = PostgresConfig.toArchiveEnd(recovery);
        pgCtl.configureRecovery(data, toArchiveEnd);
        writeConfig(instance, shared);
        writeOwned(data.resolve("pg_hba.conf"), PostgresConfig.renderHba(LOOPBACK, superuser.username()));
        writeOwned(data.resolve("pg_ident.conf"), PostgresConfig.renderRestoreIdent(user.toString(), superuser.username()));
        long logStart = logSize(instance);
        progress.accept("replaying WAL from the archive after " + what);
        Map<String, String> settings = new java.util.LinkedHashMap<>(
                PostgresConfig.instanceSettings(instance, LocalLayout.HOST, port(serial), layout.socketDir().toString()));
        settings.putAll(recovery);
        ensureSocketDir();
        try {
            pgCtl.start(data, settings, layout.serverLog(instance));
        } catch (PghaException e) {
            throw new RestoreFailedException(recoveryFailure(instance, logStart, e.getMessage()));
        }
        // computed while WAL replays: the SCRAM verifiers take a moment in this JVM
        String takeOver = takeOverSql(superuser, replication, app, routerAuth);
        int timeline = awaitPromotion(instance, serial, superuser, logStart, toArchiveEnd, takeOver, progress);
        // from now on only this cluster's passwords open it
        writeConfig(instance, shared);
        reload(serial, superuser);
        return timeline;
    }

    /**
     * Polls the recovering server until it has promoted; its progress is LSN, segment and last
     * replayed commit, once per {@link #REPLAY_POLL}. PostgreSQL removes recovery.signal when
     * recovery ends, so that file is looked at every {@link #PROMOTION_POLL} and the server asked
     * at once then: the promotion is seen within that, not up to a whole replay poll later.
     * <p>
     * With {@code toArchiveEnd} the server runs held at the end ({@link PgCtl#configureRecovery})
     * and is promoted here once it waits for WAL that no source has. restore_command marks each
     * "no such file" ({@link LocalLayout#restoreArchiveEnd}), and a mark taken away makes the next
     * look come at once: a server that has just reached the end is promoted within a
     * {@link #PROMOTION_POLL} of it (a mark that comes before the wait only costs a look; one
     * missed by a look made too early is seen by the next progress poll). recovery.signal is removed
     * first: PostgreSQL leaves it when standby.signal was there too, and while it is there
     * archive_command and the backup service push nothing, as they must not for the source's
     * segments but must for the new timeline's. Removed before the promotion, it can never hold
     * back one of the new timeline's; the price is that the source's last segment, which
     * PostgreSQL hands over only at the promotion, is pushed too (identical to the source's).
     * <p>
     * Once promoted, {@code takeOver} ({@link #takeOverSql}) runs; at the archive's end it runs in
     * the session that asks for the promotion and waits for it, so that the new primary is taken
     * over as soon as it accepts writes (separate psql runs for the promotion, the looks until it
     * is done, the take-over and the timeline cost 0.5 s here). Returns the new timeline.
     */
    private int awaitPromotion(String instance, int serial, Credentials superuser, long logStart, boolean toArchiveEnd,
                               String takeOver, Consumer<String> progress) {
        Path signal = layout.dataDir(instance).resolve(PgCtl.RECOVERY_SIGNAL);
        Path archiveEnd = layout.restoreArchiveEnd();
        long nextQuery = System.nanoTime();
        boolean promoting = false;
        while (true) {
            if (!running(instance)) {
                throw new RestoreFailedException(recoveryFailure(instance, logStart, "the server stopped during recovery"));
            }
            if (Files.exists(signal) && System.nanoTime() < nextQuery && !(toArchiveEnd && takeMark(archiveEnd))) {
                pause(instance);
                continue;
            }
            nextQuery = System.nanoTime() + REPLAY_POLL.toNanos();
            Processes.Result r = pgCtl.queryAsOsUser(layout.socketDir(), port(serial), superuser.username(),
                    "SELECT pg_is_in_recovery(), pg_last_wal_replay_lsn(), pg_last_xact_replay_timestamp(),"
                            + " (SELECT setting FROM pg_settings WHERE name = 'wal_segment_size'), timeline_id,"
                            + " (SELECT wait_event FROM pg_stat_activity WHERE backend_type = 'startup')"
                            + " FROM pg_control_checkpoint()");
            if (r.ok()) {
                String[] f = r.lastLine().split("\\|", -1);
                if (f.length == 6 && "f".equals(f[0])) {
                    Processes.Result taken = runTakeOver(instance, serial, superuser, takeOver);
                    if (!taken.ok()) {
                        throw new RestoreFailedException("cannot set this cluster's passwords on the restored " + instance + ": "
                                + taken.lastLine());
                    }
                    return timelineOf(instance, taken);
                }
                if (f.length == 6 && toArchiveEnd && ARCHIVE_EXHAUSTED.equals(f[5])) {
                    if (!promoting) {
                        progress.accept("replayed the archive to its end (at " + f[1] + "): promoting");
                        promoting = true;
                    }
                    removeRecoverySignal(instance, signal);
                    Processes.Result promoted = runTakeOver(instance, serial, superuser, PROMOTE_AND_WAIT + takeOver);
                    if (promoted.ok()) {
                        return timelineOf(instance, promoted);
                    }
                    // looked at again at once, now that recovery.signal is gone: promoted meanwhile, the
                    // take-over alone runs then; still waiting at the end, the promotion is asked again
                    LOG.warnf("cannot promote %s and take it over yet: %s", instance, promoted.lastLine());
                } else if (!promoting && f.length == 6 && !f[1].isEmpty()) {
                    progress.accept("replaying WAL: at " + f[1] + " (segment " + segmentOf(f[4], f[1], f[3]) + ")"
                            + (f[2].isEmpty() ? "" : ", last replayed commit " + f[2]));
                }
            }
            pause(instance);
        }
    }

    /** Removes {@code mark}; true when it was there. */
    private static boolean takeMark(Path mark) {
        try {
            return Files.deleteIfExists(mark);
        } catch (IOException e) {
            // the progress poll still sees the end, up to a REPLAY_POLL later
            return false;
        }
    }

    private static void removeRecoverySignal(String instance, Path signal) {
        try {
            Files.deleteIfExists(signal);
        } catch (IOException e) {
            throw new RestoreFailedException("cannot remove " + signal + " before promoting " + instance + ": " + e.getMessage());
        }
    }

    /** One {@link #PROMOTION_POLL} between two looks at a recovering server. */
    private static void pause(String instance) {
        Pauses.pause(PROMOTION_POLL, "waiting for recovery of " + instance);
    }

    /**
     * The take-over of a restored primary, as a psql script: every pgha role's password set to this
     * cluster's secret (as SCRAM verifiers computed here, so no password reaches the server or its
     * log), the roles the source lacked created, the router's lookup function made again; its last
     * line of output is the timeline the primary promoted onto.
     */
    private static String takeOverSql(Credentials superuser, Credentials replication, Credentials app, Credentials routerAuth) {
        StringBuilder sql = new StringBuilder("SET synchronous_commit TO local;\n");
        sql.append(setPassword(superuser.username(), superuser, "SUPERUSER LOGIN"));
        sql.append(setPassword(replication.username(), replication, "LOGIN REPLICATION"));
        sql.append(setPassword(app.username(), app, "LOGIN"));
        sql.append(setPassword(routerAuth.username(), routerAuth, "LOGIN"));
        sql.append(RouterAuth.FUNCTION_SQL).append('\n').append(RouterAuth.grantSql(routerAuth.username())).append('\n');
        sql.append("\\pset format unaligned\n\\pset tuples_only on\n");
        sql.append("SELECT substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8);\n");
        return sql.toString();
    }

    /** Runs a take-over script as the PostgreSQL OS user; the file holds verifiers, so it is removed at once. */
    private Processes.Result runTakeOver(String instance, int serial, Credentials superuser, String script) {
        Path file = layout.instanceDir(instance).resolve("take-over.sql");
        writeOwned(file, script);
        try {
            return pgCtl.psqlAsOsUser(layout.socketDir(), port(serial), superuser.username(), file);
        } finally {
            deleteTree(file);
        }
    }

    private static int timelineOf(String instance, Processes.Result takenOver) {
        try {
            return Integer.parseInt(takenOver.lastLine(), 16);
        } catch (NumberFormatException e) {
            throw new PghaException("cannot read the timeline of " + instance + " from: " + takenOver.lastLine());
        }
    }

    /** Creates the role when the source had none of that name, then sets its password and attributes. */
    private static String setPassword(String role, Credentials credentials, String attributes) {
        String verifier = PasswordUtil.encodeScramSha256(credentials.password().toCharArray());
        String ident = "\"" + role.replace("\"", "\"\"") + "\"";
        return "SELECT format('CREATE ROLE %I', " + Sql.literal(role) + ") WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = "
                + Sql.literal(role) + ") \\gexec\n"
                + "ALTER ROLE " + ident + " WITH " + attributes + " PASSWORD " + Sql.literal(verifier) + ";\n";
    }

    /** The first FATAL the server logged since {@code logStart}, with what restore_command said before it. */
    private String recoveryFailure(String instance, long logStart, String fallback) {
        List<String> lines;
        try (java.io.RandomAccessFile f = new java.io.RandomAccessFile(layout.serverLog(instance).toFile(), "r")) {
            f.seek(Math.min(logStart, f.length()));
            byte[] rest = new byte[(int) Math.min(Integer.MAX_VALUE, f.length() - f.getFilePointer())];
            f.readFully(rest);
            lines = new String(rest, StandardCharsets.UTF_8).lines().toList();
        } catch (IOException e) {
            return "recovery of " + instance + " failed: " + fallback;
        }
        for (int i = 0; i < lines.size(); i++) {
            int fatal = lines.get(i).indexOf("FATAL:");
            if (fatal < 0) {
                continue;
            }
            String reason = lines.get(i).substring(fatal + "FATAL:".length()).strip();
            // restore_command's own lines (the backup service's reason) come without the log prefix
            for (int j = i - 1; j >= Math.max(0, i - 4); j--) {
                if (lines.get(j).startsWith("cannot restore ") || lines.get(j).startsWith("WAL segment ")
                        || lines.get(j).startsWith("no restore of ")) {
                    reason = reason + ": " + lines.get(j).strip();
                    break;
                }
            }
            return "recovery of " + instance + " failed: " + reason;
        }
        return "recovery of " + instance + " failed: " + fallback;
    }

    private long logSize(String instance) {
        try {
            return Files.exists(layout.serverLog(instance)) ? Files.size(layout.serverLog(instance)) : 0;
        } catch (IOException e) {
            return 0;
        }
    }

    /** The WAL segment holding {@code lsn} on the timeline (hex digits as PostgreSQL names files). */
    static String segmentOf(String timeline, String lsn, String segmentBytes) {
        try {
            long position = io.pgha.api.postgres.Lsn.parse(lsn).value();
            long size = Long.parseLong(segmentBytes);
            long segment = position / size;
            long perLog = 0x1_0000_0000L / size;
            return String.format("%08X%08X%08X", Long.parseLong(timeline), segment / perLog, segment % perLog);
        } catch (RuntimeException e) {
            return "?";
        }
    }

    private static String mib(long bytes) {
        return String.format("%.1f MiB", bytes / (1024.0 * 1024.0));
    }

    /** Says something at most once a second, so that a fast stream does not flood the status. */
    private static final class ProgressThrottle {
        private long last;

        void maybe(Runnable say) {
            long now = System.nanoTime();
            if (now - last >= PROGRESS_INTERVAL.toNanos()) {
                last = now;
                say.run();
            }
        }
    }

    /**
     * A hot standby cloned from the primary through its own physical slot, created first on the
     * primary so that no WAL it needs can be recycled between the clone and its first stream.
     */
    void createStandby(String instance, int serial, Map<String, String> shared, int primaryPort, Credentials superuser,
                       Credentials replication) {
        discardUnrecorded(instance);
        prepareInstanceDir(instance, replication);
        ensureSlot(primaryPort, superuser, instance);
        Path data = layout.dataDir(instance);
        pgCtl.basebackup(layout.replicationConninfo(instance, primaryPort) + " application_name=" + instance, data,
                ClusterNames.replicationSlot(instance));
        pgCtl.configureStandby(layout.dataDir(instance), layout.replicationConninfo(instance, primaryPort),
                ClusterNames.replicationSlot(instance));
        writeConfig(instance, shared);
        start(instance, serial);
    }

    /**
     * Brings back, as a standby of {@code primaryPort}'s timeline, an instance that holds WAL the
     * primary's history does not (a former primary, a standby ahead of the fork point): stops it,
     * then pg_rewind, or a fresh clone when rewind fails. Returns how it was done.
     */
    String rejoin(String instance, int serial, Map<String, String> shared, int primaryPort, Credentials superuser,
                  Credentials replication) {
        Path data = layout.dataDir(instance);
        pgCtl.stop(data, PgCtl.StopMode.FAST);
        ensureSlot(primaryPort, superuser, instance);
        // pg_rewind takes the source's timeline from its pg_control, which names the new timeline
        // only after a checkpoint; without one it would find nothing to rewind
        checkpoint(primaryPort, superuser);
        Path passfile = layout.instanceDir(instance).resolve("rewind-pgpass");
        // pg_rewind needs a superuser connection; the password travels in a private passfile, removed after
        writeOwned(passfile, "*:*:*:" + superuser.username() + ":" + superuser.password() + "\n");
        Processes.Result rewind = pgCtl.rewind(data, "host=" + LocalLayout.HOST + " port=" + primaryPort + " user="
                + superuser.username() + " dbname=postgres passfile=" + passfile);
        deleteTree(passfile);
        if (rewind.ok()) {
            pgCtl.configureStandby(layout.dataDir(instance), layout.replicationConninfo(instance, primaryPort),
                    ClusterNames.replicationSlot(instance));
            writeConfig(instance, shared);
            start(instance, serial);
            return ProvisioningStatus.Instance.REJOINED_BY_REWIND;
        }
        createStandby(instance, serial, shared, primaryPort, superuser, replication);
        return ProvisioningStatus.Instance.REJOINED_BY_CLONE;
    }

    /**
     * An empty spool directory for a restore (see {@link LocalLayout#restoreSpool}), owned by the
     * PostgreSQL OS user, who renames segments out of it; the backup service fills it as the
     * directory's owner.
     */
    Path emptyRestoreSpool() {
        Path spool = layout.restoreSpool();
        deleteTree(spool);
        try {
            user.createPrivateDirectory(spool);
        } catch (IOException e) {
            throw new PghaException("cannot create " + spool + ": " + e.getMessage(), e);
        }
        return spool;
    }

    private void discardUnrecorded(String instance) {
        stop(instance, PgCtl.StopMode.IMMEDIATE);
        deleteTree(layout.instanceDir(instance));
    }

    /** Starts a standby, first making sure its slot exists on the primary it streams from. */
    void startStandby(String instance, int serial, Integer primaryPort, Credentials superuser) {
        if (primaryPort != null) {
            ensureSlot(primaryPort, superuser, instance);
        }
        start(instance, serial);
    }

    void start(String instance, int serial) {
        ensureSocketDir();
        pgCtl.start(layout.dataDir(instance),
                PostgresConfig.instanceSettings(instance, LocalLayout.HOST, port(serial), layout.socketDir().toString()),
                layout.serverLog(instance));
    }

    void stop(String instance, PgCtl.StopMode mode) {
        pgCtl.stop(layout.dataDir(instance), mode);
    }

    String clusterState(String instance) {
        return pgCtl.clusterState(layout.dataDir(instance));
    }

    boolean isStandbyDataDir(String instance) {
        return Files.exists(layout.dataDir(instance).resolve(PgCtl.STANDBY_SIGNAL));
    }

    /** Stops the instance, drops its slot on the primary and deletes its files. */
    void remove(String instance, Integer primaryPort, Credentials superuser) {
        stop(instance, PgCtl.StopMode.FAST);
        if (primaryPort != null) {
            try (Connection c = Sql.connect(primaryPort, superuser, "postgres")) {
                Sql.value(c, "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = ?",
                        ClusterNames.replicationSlot(instance));
            } catch (SQLException e) {
                throw new PghaException("cannot drop the slot of " + instance + ": " + e.getMessage(), e);
            }
        }
        deleteTree(layout.instanceDir(instance));
    }

    /**
     * Writes postgresql.conf and pg_hba.conf where they differ from what they should be (every pass
     * calls this, and each write is fsynced); true when postgresql.conf changed.
     */
    boolean writeConfig(String instance, Map<String, String> shared) {
        Path data = layout.dataDir(instance);
        writeOwnedIfChanged(data.resolve("pg_hba.conf"), PostgresConfig.renderHba(LOOPBACK));
        return writeOwnedIfChanged(data.resolve("postgresql.conf"), PostgresConfig.renderConf(shared));
    }

    private boolean writeOwnedIfChanged(Path file, String content) {
        if (content.equals(readOrEmpty(file))) {
            return false;
        }
        writeOwned(file, content);
        return true;
    }

    /**
     * Has the server re-read its configuration, and returns once it has (or after
     * {@link #RELOAD_WAIT}): pg_reload_conf() only signals the postmaster, and what the reload marks
     * pending_restart decides whether a rolling restart is due, so it must be visible to the next look.
     */
    void reload(int serial, Credentials superuser) {
        try (Connection c = Sql.connect(port(serial), superuser, "postgres")) {
            String before = Sql.value(c, "SELECT pg_conf_load_time()");
            Sql.value(c, "SELECT pg_reload_conf()");
            long deadline = System.nanoTime() + RELOAD_WAIT.toNanos();
            // this backend reloads between two commands once the postmaster has passed the signal on
            while (before.equals(Sql.value(c, "SELECT pg_conf_load_time()")) && System.nanoTime() < deadline) {
                Pauses.pause(RELOAD_POLL, "waiting for instance on port " + port(serial) + " to reload its configuration");
            }
        } catch (SQLException e) {
            throw new PghaException("cannot reload instance on port " + port(serial) + ": " + e.getMessage(), e);
        }
    }

    /**
     * Restarts a running instance where it is, for settings only a restart applies or on request:
     * a fast stop (sessions end, a primary's WAL senders hand its last WAL to the standbys first)
     * and a start with the configuration on disk. A standby's slot on the primary is made sure of first.
     */
    void restart(String instance, int serial, Integer primaryPort, Credentials superuser) {
        if (primaryPort == null) {
            settleBeforeStop(instance, serial, superuser);
        }
        stop(instance, PgCtl.StopMode.FAST);
        if (primaryPort != null) {
            startStandby(instance, serial, primaryPort, superuser);
        } else {
            start(instance, serial);
        }
    }

    /**
     * Shortens a primary's stop, which the monitor sees as failed checks (too many and it fails
     * over): a checkpoint now leaves the shutdown checkpoint little to write, and the archiver,
     * which archives every waiting segment before the server may exit, is given up to
     * {@link #ARCHIVE_DRAIN_WAIT} to empty archive_status first. What is still waiting after that
     * is archived during the stop, as always.
     */
    private void settleBeforeStop(String instance, int serial, Credentials superuser) {
        try (Connection c = Sql.connect(port(serial), superuser, "postgres"); Statement s = c.createStatement()) {
            s.execute("CHECKPOINT");
            long deadline = System.nanoTime() + ARCHIVE_DRAIN_WAIT.toNanos();
            while (!"0".equals(Sql.value(c, "SELECT count(*) FROM pg_ls_archive_statusdir() WHERE name LIKE '%.ready'"))) {
                if (System.nanoTime() > deadline) {
                    LOG.warnf("%s still has WAL waiting for the archive after %s: restarting it anyway", instance, ARCHIVE_DRAIN_WAIT);
                    return;
                }
                Pauses.pause(RELOAD_POLL.multipliedBy(10), "waiting for " + instance + "'s WAL to reach the archive before its restart");
            }
        } catch (SQLException e) {
            // the restart itself says whether the server can be stopped and started
            LOG.warnf("cannot prepare %s for its restart: %s", instance, e.getMessage());
        }
    }

    void deleteInstanceFiles(String instance) {
        deleteTree(layout.instanceDir(instance));
    }

    private static void checkpoint(int port, Credentials superuser) {
        try (Connection c = Sql.connect(port, superuser, "postgres"); Statement s = c.createStatement()) {
            s.execute("CHECKPOINT");
        } catch (SQLException e) {
            throw new PghaException("cannot checkpoint the instance on port " + port + ": " + e.getMessage(), e);
        }
    }

    private void ensureSlot(int primaryPort, Credentials superuser, String instance) {
        try (Connection c = Sql.connect(primaryPort, superuser, "postgres")) {
            Sql.value(c, "SELECT pg_create_physical_replication_slot(?) WHERE NOT EXISTS "
                    + "(SELECT 1 FROM pg_replication_slots WHERE slot_name = ?)",
                    ClusterNames.replicationSlot(instance), ClusterNames.replicationSlot(instance));
        } catch (SQLException e) {
            throw new PghaException("cannot create the replication slot of " + instance + ": " + e.getMessage(), e);
        }
    }

    private void prepareInstanceDir(String instance, Credentials replication) {
        try {
            user.createPrivateDirectory(layout.instanceDir(instance));
            Files.createDirectories(layout.logs());
            user.chown(layout.logs());
        } catch (IOException e) {
            throw new PghaException("cannot create " + layout.instanceDir(instance) + ": " + e.getMessage(), e);
        }
        writeOwned(layout.passfile(instance), "*:*:*:" + replication.username() + ":" + replication.password() + "\n");
    }

    private void ensureSocketDir() {
        try {
            user.createPrivateDirectory(layout.socketDir());
        } catch (IOException e) {
            throw new PghaException("cannot create " + layout.socketDir() + ": " + e.getMessage(), e);
        }
    }

    /** Writes a file only the PostgreSQL OS user can read, from the moment it exists. */
    private void writeOwned(Path file, String content) {
        StateFiles.replace(file, content.getBytes(StandardCharsets.UTF_8), StateFiles.PRIVATE, user::chown);
    }

    private static String readOrEmpty(Path file) {
        try {
            return Files.exists(file) ? Files.readString(file) : "";
        } catch (IOException e) {
            throw new PghaException("cannot read " + file + ": " + e.getMessage(), e);
        }
    }

    private static void deleteTree(Path root) {
        try {
            StateFiles.deleteTree(root);
        } catch (IOException e) {
            throw new PghaException("cannot delete " + root + ": " + e.getMessage(), e);
        }
    }
}
