package io.pgha.api;

import java.util.OptionalInt;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Every name pgha derives from a cluster name, in one place. Kubernetes objects, local files,
 * PostgreSQL roles and replication slots all take their names from here.
 */
public final class ClusterNames {
    private ClusterNames() {
    }

    /** The PostgreSQL superuser role. */
    /** The application_name of the backup service's connections to instances, as pg_stat_activity shows them. */
    public static final String BACKUP_APPLICATION_NAME = "pgha_backup";
    public static final String SUPERUSER = "postgres";
    /** The role standbys stream as; it has REPLICATION and nothing else. */
    public static final String REPLICATION_USER = "streaming_replica";
    /** The least-privilege role the router uses to look up SCRAM verifiers. */
    public static final String ROUTER_AUTH_USER = "pgha_router";

    /**
     * The name of an instance pod's PostgreSQL container port: the services target it, and the
     * monitor reads the port to connect to from it.
     */
    public static final String INSTANCE_PORT_NAME = "postgres";
    /** The PostgreSQL container of an instance pod, whose exit code tells how the server stopped. */
    public static final String INSTANCE_CONTAINER = "postgres";

    private static final Pattern INSTANCE = Pattern.compile("^(.+)-([1-9][0-9]*)$");

    /** Instance {@code serial} of the cluster, for example {@code pg-2}; also its pod and PVC name. */
    public static String instance(String cluster, int serial) {
        return cluster + "-" + serial;
    }

    /** The serial of an instance of this cluster, if the name is one. */
    public static OptionalInt serialOf(String cluster, String instanceName) {
        Matcher m = INSTANCE.matcher(instanceName);
        if (!m.matches() || !m.group(1).equals(cluster)) {
            return OptionalInt.empty();
        }
        return OptionalInt.of(Integer.parseInt(m.group(2)));
    }

    /** The physical replication slot a standby streams through, on whichever instance is primary. */
    public static String replicationSlot(String instanceName) {
        return "pgha_" + instanceName.replace('-', '_').replace('.', '_');
    }

    /** Service that selects the current primary. */
    public static String readWriteService(String cluster) {
        return cluster + "-rw";
    }

    /** Service that selects the healthy standbys. */
    public static String readOnlyService(String cluster) {
        return cluster + "-ro";
    }

    /** Service in front of the router deployment: the endpoint applications use. */
    public static String routerService(String cluster) {
        return cluster + "-router";
    }

    public static String routerDeployment(String cluster) {
        return cluster + "-router";
    }

    /** Secret (or local file) with the superuser password. */
    public static String superuserSecret(String cluster) {
        return cluster + "-superuser";
    }

    /** Secret (or local file) with the replication user's password. */
    public static String replicationSecret(String cluster) {
        return cluster + "-replication";
    }

    /** Secret (or local file) with the application user, password and database. */
    public static String appSecret(String cluster) {
        return cluster + "-app";
    }

    /** Secret (or local file) with the router's lookup role password. */
    public static String routerAuthSecret(String cluster) {
        return cluster + "-router-auth";
    }

    /**
     * Secret with the cluster's WAL push token: the instances' archive_command sends it with every
     * push and the backup service refuses a push without it, so that nobody else who reaches the
     * service can store WAL under the cluster's name.
     */
    public static String walPushSecret(String cluster) {
        return cluster + "-wal-push";
    }

    /** The key of {@link #walPushSecret}'s data that holds the token. */
    public static final String WAL_PUSH_TOKEN_KEY = "token";

    /**
     * CronJob that calls the backup service at each slot of {@code spec.backup.schedule} when the
     * service runs as a Knative Service that scales to zero (its own clock stops with it). At most
     * 49 characters for a 40-character cluster name: within the 52 a CronJob name may have.
     */
    public static String backupScheduleCronJob(String cluster) {
        return cluster + "-schedule";
    }

    /**
     * The backup service's endpoint that {@link #backupScheduleCronJob} calls:
     * {@code POST /schedules/<namespace>/<cluster>} runs what is due for the cluster.
     */
    public static final String SCHEDULE_TRIGGER_ROOT = "/schedules";

    /** The path of {@link #SCHEDULE_TRIGGER_ROOT} for one cluster. */
    public static String scheduleTriggerPath(String namespace, String cluster) {
        return SCHEDULE_TRIGGER_ROOT + "/" + namespace + "/" + cluster;
    }

    /**
     * CronJob that calls the backup service at each slot of {@code spec.backup.verify} (a restore
     * drill), as {@link #backupScheduleCronJob} does for backups. At most 47 characters.
     */
    public static String backupVerifyCronJob(String cluster) {
        return cluster + "-verify";
    }

    /**
     * The backup service's endpoint that {@link #backupVerifyCronJob} calls:
     * {@code POST /drills/<namespace>/<cluster>} runs the restore drill that is due for the cluster.
     */
    public static final String DRILL_TRIGGER_ROOT = "/drills";

    /** The path of {@link #DRILL_TRIGGER_ROOT} for one cluster. */
    public static String drillTriggerPath(String namespace, String cluster) {
        return DRILL_TRIGGER_ROOT + "/" + namespace + "/" + cluster;
    }

    /** Secret with the cluster's certificate authority (certificate and key): made once, signs every instance certificate. */
    public static String certificateAuthoritySecret(String cluster) {
        return cluster + "-ca";
    }

    /**
     * Secret with the CA certificate alone (no key): what the clients of the instances (router,
     * monitor, backup service) trust, readable by them without exposing the CA's key.
     */
    public static String caCertificateSecret(String cluster) {
        return cluster + "-ca-cert";
    }

    /** Secret ({@code kubernetes.io/tls}) with one instance's server certificate, its key and the cluster's CA certificate. */
    public static String instanceTlsSecret(String instanceName) {
        return instanceName + "-tls";
    }

    /** ConfigMap with postgresql.conf, pg_hba.conf and the bootstrap script. */
    public static String configMap(String cluster) {
        return cluster + "-config";
    }

    /**
     * ServiceAccount, Role and RoleBinding of the instance pods: each may read its own pod, so
     * that a primary can prove it still reaches the API server and read its role from there.
     */
    public static String instanceServiceAccount(String cluster) {
        return cluster + "-instance";
    }

    public static String podDisruptionBudget(String cluster) {
        return cluster + "-pdb";
    }

    /** NetworkPolicy that lets only pgha's own pods reach the instances' PostgreSQL port. */
    public static String networkPolicy(String cluster) {
        return cluster + "-instances";
    }

    /**
     * Role and RoleBinding in the cluster's namespace through which one pgha service (its
     * ServiceAccount {@code service}, such as pgha-monitor) reads the secrets of this cluster it needs.
     */
    public static String serviceAccess(String cluster, String service) {
        return cluster + "-" + service;
    }

    /** Lease that elects the acting monitor for the cluster. */
    public static String monitorLease(String cluster) {
        return cluster + "-monitor";
    }
}
