package io.pgha.provisioner.model;

import io.pgha.api.ClusterNames;
import io.pgha.api.SynchronousStandbyNames;
import io.pgha.api.v1.cluster.BackupSpec;
import io.pgha.api.v1.cluster.PostgresClusterSpec;
import io.pgha.api.validation.PostgresParameters;

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
    /** The archive_command where no backup service takes WAL (Kubernetes until it gets one): it succeeds and keeps nothing. */
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
     * retries). Every part is a cluster name, a port or a PostgreSQL placeholder, so the command
     * needs no shell quoting.
     */
    public static String localArchiveCommand(String cluster, String backupHost, int backupHttpPort) {
        if (!URL_SAFE_CLUSTER.matcher(cluster).matches()) {
            throw new IllegalArgumentException("not a cluster name: " + cluster);
        }
        return "curl -sf --max-time " + ARCHIVE_PUSH_TIMEOUT_SECONDS + " -T %p http://" + backupHost + ":" + backupHttpPort
                + "/wal/" + cluster + "/%f";
    }

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
        StringBuilder out = new StringBuilder("# Written by pgha. SCRAM-SHA-256 everywhere; no trust.\n");
        out.append("local   all          all  scram-sha-256\n");
        for (String net : networks) {
            out.append(String.format("host    replication  %s  %s  scram-sha-256%n", ClusterNames.REPLICATION_USER, net));
            out.append(String.format("host    all          all  %s  scram-sha-256%n", net));
        }
        return out.toString();
    }
}
