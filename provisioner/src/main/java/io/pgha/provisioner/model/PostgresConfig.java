package io.pgha.provisioner.model;

import io.pgha.api.ClusterNames;
import io.pgha.api.SynchronousStandbyNames;
import io.pgha.api.v1.cluster.BackupSpec;
import io.pgha.api.v1.cluster.BootstrapSpec;
import io.pgha.api.v1.cluster.PostgresClusterSpec;
import io.pgha.api.validation.PostgresParameters;
import io.pgha.local.PgCtl;
import io.pgha.local.WalToken;

import java.nio.file.Path;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The configuration every instance of a cluster shares (postgresql.conf and pg_hba.conf), and the
 * settings that make an instance itself, which go on the server's command line. Pure: both
 * platforms render the same text from the same spec.
 */
public final class PostgresConfig {
    /**
     * archive_mode is set from the start (changing it needs a restart) to always: standbys archive
     * what they receive too, so the segments a dead primary still had waiting in
     * archive_status/*.ready reach the archive from a standby, and no hole follows a failover. The
     * repeated pushes are safe because a push of content already stored succeeds without a copy.
     */
    public static final String ARCHIVE_MODE = "always";
    /** The archive_command where no backup service takes WAL (a cluster without spec.backup on Kubernetes): it succeeds and keeps nothing. */
    public static final String ARCHIVE_COMMAND_WITHOUT_BACKUP = "/bin/true";
    /**
     * How long one push of a segment may take before archive_command fails and PostgreSQL retries
     * it: a 16 MiB segment goes over loopback and is compressed and fsynced in well under this.
     */
    public static final int ARCHIVE_PUSH_TIMEOUT_SECONDS = 60;
    private static final java.util.regex.Pattern URL_SAFE_CLUSTER = java.util.regex.Pattern.compile("[a-z0-9-]+");
    private static final long MIB = 1024L * 1024;

    private PostgresConfig() {
    }

    /**
     * archive_command in local mode: hand the segment to the backup service, which answers 2xx only
     * once it is durably in the repository (curl -f turns anything else into a failure PostgreSQL
     * retries). It sends the cluster's WAL token from {@code tokenFile} ({@link WalToken}), so the
     * token shows neither in ps nor in pg_settings. Every other part is a cluster name, a port or a
     * PostgreSQL placeholder, so only the file's path needs shell quoting.
     * <p>
     * While a restore replays (recovery.signal in the data directory, where the command runs; a
     * standby has standby.signal), archive_mode = always hands over every segment restored from the
     * source's archive: those are the source's WAL, which this cluster's archive does not need (its
     * window starts at its own first backup), and pushing them compressed and fsynced every segment
     * again on the cores that replay. So a segment is marked archived without a push then; file
     * names with a dot (the new timeline's history file, a .partial) are always pushed. PostgreSQL
     * removes recovery.signal before it writes the new timeline's history file.
     */
    public static String localArchiveCommand(String cluster, String backupHost, int backupHttpPort, Path tokenFile) {
        if (!URL_SAFE_CLUSTER.matcher(cluster).matches()) {
            throw new IllegalArgumentException("not a cluster name: " + cluster);
        }
        return "case %f in *.*) ;; *) [ -f " + PgCtl.RECOVERY_SIGNAL + " ] && exit 0 ;; esac; curl -sf --max-time "
                + ARCHIVE_PUSH_TIMEOUT_SECONDS + " " + WalToken.curlOption(tokenFile) + " -T %p http://" + backupHost + ":"
                + backupHttpPort + "/wal/" + cluster + "/%f";
    }

    /**
     * archive_command on Kubernetes: {@code script} (wal-push.sh from the cluster's ConfigMap) PUTs
     * the segment to the backup service at {@code backupBaseUrl} (scheme, host and port) with bash
     * and, for https, openssl s_client, since the postgres:15 image has no curl, verifying the
     * service's certificate against {@code caFile}, and succeeds only once the service answers 2xx
     * (the repository holds it durably); {@code timeout} bounds one push, TLS handshake included, as
     * curl's --max-time does locally. The script sends the cluster's push token, which it reads from
     * {@code tokenFile}: the command names the file, never the token, so the token shows neither in
     * ps nor in pg_settings. As in local mode, every part is a path, a URL of host name and port, a
     * cluster name or a placeholder: no shell quoting is needed.
     */
    public static String kubernetesArchiveCommand(String cluster, String script, String tokenFile, String backupBaseUrl, String caFile) {
        if (!URL_SAFE_CLUSTER.matcher(cluster).matches()) {
            throw new IllegalArgumentException("not a cluster name: " + cluster);
        }
        return "timeout " + ARCHIVE_PUSH_TIMEOUT_SECONDS + " bash " + script + " %p " + backupBaseUrl
                + "/wal/" + cluster + "/%f " + tokenFile + " " + caFile;
    }

    /** How long one restore_command fetch may take, retries included, before recovery stops. */
    public static final int RESTORE_FETCH_TIMEOUT_SECONDS = 300;
    /**
     * restore_command's exit status for a fetch that failed: above 125, which PostgreSQL treats
     * like a signal and answers with FATAL, stopping recovery. Exit 1 would mean "no such file",
     * on which PostgreSQL ends recovery early and promotes with whatever it has.
     */
    public static final int RESTORE_ABORT_EXIT = 200;

    /**
     * restore_command in local mode: take the file from the spool directory when the backup
     * service has written it there ahead (a rename: replay does not wait on a process start and an
     * HTTP round trip per segment), else fetch it from this state directory's backup service,
     * which reads it (and the segments after it, in parallel) from the source repository. The
     * spool holds only segments the service found stored and intact. HTTP 200 is the file; 404,
     * which the service answers only beyond the archive's end, is "no such file"; anything else (a
     * hole, a corrupt segment, the service unreachable after curl's retries) prints the service's
     * reason to the server log and stops recovery. {@code %%} is PostgreSQL's escape for a literal
     * '%'. A fetch sends the restoring cluster's own WAL token from {@code tokenFile}, as
     * archive_command does. Each 404 also creates {@code archiveEnd} (LocalLayout#restoreArchiveEnd).
     */
    public static String localRestoreCommand(String cluster, String backupHost, int backupHttpPort, Path spool, Path archiveEnd,
                                             Path tokenFile) {
        if (!URL_SAFE_CLUSTER.matcher(cluster).matches()) {
            throw new IllegalArgumentException("not a cluster name: " + cluster);
        }
        String spooled = PgCtl.shellQuote(spool.toString().replace("%", "%%")) + "/%f";
        String endMarker = PgCtl.shellQuote(archiveEnd.toString().replace("%", "%%"));
        return "[ -f " + spooled + " ] && mv -f " + spooled + " %p && exit 0;"
                + " c=$(curl -s --retry 3 --retry-connrefused --retry-delay 1 --max-time " + RESTORE_FETCH_TIMEOUT_SECONDS
                + " " + WalToken.curlOption(tokenFile) + " -o %p -w '%%{http_code}' http://" + backupHost + ":" + backupHttpPort + "/restores/" + cluster + "/wal/%f);"
                + " [ \"$c\" = 200 ] && exit 0;"
                + " [ \"$c\" = 404 ] && { rm -f %p; : > " + endMarker + "; exit 1; };"
                + " cat %p >&2 2>/dev/null; rm -f %p;"
                + " echo \"pgha restore_command: cannot fetch %f (HTTP $c): stopping recovery\" >&2; exit " + RESTORE_ABORT_EXIT;
    }

    /**
     * The settings that make a start an archive recovery to {@code target} (null: the end of the
     * archive) that promotes on a new timeline once there. They go on the command line of that
     * start only, never into a file: a standby cloned later copies the data directory's files, and
     * a standby with a recovery target would stop following its primary there.
     */
    public static Map<String, String> recoverySettings(BootstrapSpec.Target target, String restoreCommand) {
        Map<String, String> s = new LinkedHashMap<>();
        s.put("restore_command", restoreCommand);
        s.put("recovery_target_timeline", "latest");
        s.put("recovery_target_action", "promote");
        // the base backup was extracted without an fsync per file, and PostgreSQL syncs the whole
        // data directory before it recovers one that was not shut down cleanly: one syncfs of the
        // file system instead of an fsync of every file (start to replay of a 630 MB restore here:
        // 3.5 s before, 0.7 s with it)
        s.put("recovery_init_sync_method", "syncfs");
        if (target == null) {
            return s;
        }
        if (Boolean.TRUE.equals(target.immediate)) {
            s.put("recovery_target", "immediate");
            return s;
        }
        if (target.time != null) {
            s.put("recovery_target_time", recoveryTargetTime(target.time));
        } else if (target.lsn != null) {
            s.put("recovery_target_lsn", target.lsn);
        } else if (target.xid != null) {
            s.put("recovery_target_xid", Long.toString(target.xid));
        } else if (target.name != null) {
            s.put("recovery_target_name", target.name);
        } else {
            return s;
        }
        s.put("recovery_target_inclusive", target.inclusive ? "on" : "off");
        return s;
    }

    /** The settings that each name a recovery target; without any, recovery replays to the end of the archive. */
    private static final List<String> RECOVERY_TARGETS = List.of("recovery_target", "recovery_target_time",
            "recovery_target_lsn", "recovery_target_xid", "recovery_target_name");

    /** True when {@code recoverySettings} (from {@link #recoverySettings}) name no target: to the end of the archive. */
    public static boolean toArchiveEnd(Map<String, String> recoverySettings) {
        return RECOVERY_TARGETS.stream().noneMatch(recoverySettings::containsKey);
    }

    /**
     * An RFC 3339 time as recovery_target_time must be written: in UTC with a numeric offset.
     * PostgreSQL checks the setting before it has loaded its time zone abbreviations, so the
     * RFC 3339 "Z" (an abbreviation to it) is refused as an invalid value.
     */
    static String recoveryTargetTime(String rfc3339) {
        OffsetDateTime t = OffsetDateTime.parse(rfc3339).withOffsetSameInstant(ZoneOffset.UTC);
        return RECOVERY_TIME.format(t) + "+00";
    }

    private static final DateTimeFormatter RECOVERY_TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss.SSSSSS");

    /**
     * Settings in the shared postgresql.conf: pgha's defaults, then the spec's parameters, then
     * the settings pgha manages (which validation keeps out of the spec).
     */
    public static Map<String, String> sharedSettings(PostgresClusterSpec spec, List<String> instanceNames) {
        Map<String, String> s = new LinkedHashMap<>();
        // defaults a spec may override
        s.put("hot_standby_feedback", "on");
        s.put("max_wal_senders", Integer.toString(Math.max(10, spec.instances + 4)));
        s.put("max_replication_slots", Integer.toString(Math.max(10, spec.instances + 4)));
        s.put("wal_keep_size", "64MB");
        s.put("wal_receiver_status_interval", "1s");
        s.put("log_line_prefix", "%m [%p] %q%u@%d ");
        // under PostgreSQL's own spelling, so a spec's value replaces a default and later lookups find it
        spec.parameters.forEach((k, v) -> s.put(PostgresParameters.canonicalName(k), v));
        // managed: replication, archiving and safety
        s.put("wal_level", "replica");
        s.put("hot_standby", "on");
        s.put("full_page_writes", "on");
        s.put("wal_log_hints", "on");
        s.put("password_encryption", "scram-sha-256");
        s.put("archive_mode", ARCHIVE_MODE);
        s.put("archive_command", ARCHIVE_COMMAND_WITHOUT_BACKUP);
        s.put("archive_timeout", BackupSpec.archiveTimeoutSeconds(spec.backup) + "s");
        s.put("max_slot_wal_keep_size", maxSlotWalKeepSize(spec.storage.size));
        s.put("synchronous_standby_names", synchronousStandbyNames(spec, instanceNames));
        return s;
    }

    /**
     * Every instance, not only the primary, names the quorum, so that a promoted standby enforces
     * it from its first commit. Empty in asynchronous mode.
     */
    public static String synchronousStandbyNames(PostgresClusterSpec spec, List<String> instanceNames) {
        if (!spec.replication.isQuorum()) {
            return "";
        }
        return SynchronousStandbyNames.quorum(spec.replication.number, instanceNames);
    }

    /** A quarter of the volume, at least 64MB: a dead standby's slot can never fill the disk. */
    static String maxSlotWalKeepSize(String storageSize) {
        long bytes = Quantities.bytes(storageSize);
        return Math.max(64, bytes / 4 / MIB) + "MB";
    }

    /** The settings that identify one instance; they go on the command line, not in a file. */
    public static Map<String, String> instanceSettings(String instanceName, String listenAddress, int port, String socketDir) {
        Map<String, String> s = new LinkedHashMap<>();
        s.put("port", Integer.toString(port));
        s.put("listen_addresses", listenAddress);
        s.put("unix_socket_directories", socketDir);
        // cluster_name is also the application_name a standby's WAL receiver reports, which is
        // how synchronous_standby_names and pg_stat_replication know the standby
        s.put("cluster_name", instanceName);
        return s;
    }

    public static String renderConf(Map<String, String> settings) {
        StringBuilder out = new StringBuilder("# Written by pgha. Edits are overwritten: change spec.parameters instead.\n");
        settings.forEach((k, v) -> out.append(k).append(" = ").append(PostgresParameters.confQuote(v)).append('\n'));
        return out.toString();
    }

    /**
     * Client authentication: SCRAM-SHA-256 for every connection, replication only for the
     * replication role, and only from {@code networks}. There is no trust line.
     */
    public static String renderHba(List<String> networks) {
        return renderHba(networks, null);
    }

    /** The pg_ident.conf map of the restoring superuser's peer line. */
    public static final String RESTORE_IDENT_MAP = "pgha_restore";

    /** pg_ident.conf while a restore runs: the PostgreSQL OS user may log in as the superuser, nobody else. */
    public static String renderRestoreIdent(String osUser, String superuser) {
        return "# Written by pgha while a restore runs.\n" + RESTORE_IDENT_MAP + "  " + osUser + "  " + superuser + "\n";
    }

    /**
     * As {@link #renderHba(List)}, with one more line first while a restore runs: the restored
     * catalog holds the source's passwords, so until pgha has set this cluster's own, the superuser
     * may log in over the unix socket only from the PostgreSQL OS user itself (peer), which owns
     * the data directory anyway.
     */
    public static String renderHba(List<String> networks, String restoringSuperuser) {
        return renderHba(networks, restoringSuperuser, HOST);
    }

    /** pg_hba.conf's connection type for TCP with or without TLS. */
    private static final String HOST = "host";
    /** pg_hba.conf's connection type for TCP over TLS only: a connection without TLS matches no line and is refused. */
    private static final String HOST_SSL = "hostssl";

    /**
     * As {@link #renderHba(List)}, for instances whose connections leave their host (Kubernetes):
     * every TCP line is {@code hostssl}, so no password exchange and no data crosses the network in clear.
     */
    public static String renderTlsHba(List<String> networks) {
        return renderHba(networks, null, HOST_SSL);
    }

    /**
     * The server's TLS settings in the shared postgresql.conf. The certificate and key files are
     * the instance's own and go on its command line (bootstrap.sh names its copies of them); a
     * reload rereads them, so a renewed certificate is served without a restart.
     */
    public static Map<String, String> tlsSettings() {
        Map<String, String> s = new LinkedHashMap<>();
        s.put("ssl", "on");
        s.put("ssl_min_protocol_version", "TLSv1.2");
        return s;
    }

    private static String renderHba(List<String> networks, String restoringSuperuser, String tcpType) {
        StringBuilder out = new StringBuilder("# Written by pgha. SCRAM-SHA-256 everywhere; no trust.\n");
        if (restoringSuperuser != null) {
            out.append(String.format("local   all          %s  peer map=%s%n", restoringSuperuser, RESTORE_IDENT_MAP));
        }
        out.append("local   all          all  scram-sha-256\n");
        for (String net : networks) {
            out.append(String.format("%-7s replication  %s  %s  scram-sha-256%n", tcpType, ClusterNames.REPLICATION_USER, net));
            out.append(String.format("%-7s all          all  %s  scram-sha-256%n", tcpType, net));
        }
        return out.toString();
    }
}
