package io.pgha.provisioner.kubernetes;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.pgha.api.ClusterNames;
import io.pgha.api.RouterAuth;
import io.pgha.api.v1.cluster.PostgresCluster;
import io.pgha.provisioner.model.PostgresConfig;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * postgresql.conf and pg_hba.conf (the same text local mode writes, from {@link PostgresConfig}),
 * the instance bootstrap script, the router's lookup function, and which instance may initdb. Instances read the files straight
 * from the mounted ConfigMap.
 */
public final class ClusterConfigMap {
    public static final String POSTGRESQL_CONF = "postgresql.conf";
    public static final String PG_HBA_CONF = "pg_hba.conf";
    public static final String BOOTSTRAP_SCRIPT = "bootstrap.sh";
    /** archive_command's script when the cluster has spec.backup ({@link PostgresConfig#kubernetesArchiveCommand}). */
    public static final String WAL_PUSH_SCRIPT = "wal-push.sh";
    /**
     * The router's SCRAM lookup function and its grant ({@link RouterAuth#setupSql}): the script
     * runs this file on the primary, at initdb and whenever the primary lacks it, so the SQL has
     * one source.
     */
    public static final String ROUTER_AUTH_SQL = "router-auth.sql";
    /**
     * The one instance allowed to run initdb on an empty volume; empty once the cluster has
     * recorded its first primary, so that no instance can ever initdb a second cluster.
     */
    public static final String FIRST_PRIMARY = "first-primary";
    private static final String SCRIPT_RESOURCE = "/io/pgha/provisioner/kubernetes/bootstrap.sh";
    private static final String WAL_PUSH_RESOURCE = "/io/pgha/provisioner/kubernetes/wal-push.sh";
    /** The HTTP/1.1 client (plain, or TLS through openssl s_client) that wal-push.sh and backup-trigger.sh share. */
    private static final String HTTP_CLIENT_RESOURCE = "/io/pgha/provisioner/kubernetes/http-client.sh";

    private ClusterConfigMap() {
    }

    /**
     * @param instanceNames the instances the cluster will have once the current plan is carried out
     *                      (synchronous_standby_names lists them)
     * @param firstPrimary  the instance that may initdb, or null once the cluster is bootstrapped
     * @param services      where pgha's services run: with spec.backup, archive_command pushes to the backup service
     */
    public static ConfigMap desired(PostgresCluster cluster, List<String> instanceNames, String firstPrimary, PghaServices services) {
        String name = cluster.getMetadata().getName();
        Map<String, String> data = new LinkedHashMap<>();
        Map<String, String> settings = PostgresConfig.sharedSettings(cluster.getSpec(), instanceNames);
        settings.putAll(PostgresConfig.tlsSettings());
        if (cluster.getSpec().backup != null) {
            settings.put("archive_command", PostgresConfig.kubernetesArchiveCommand(name, InstancePod.CONFIG_MOUNT + "/" + WAL_PUSH_SCRIPT,
                    InstancePod.WAL_PUSH_TOKEN_FILE, services.backupBaseUrl(), InstancePod.BACKUP_CA_FILE));
            data.put(WAL_PUSH_SCRIPT, withHttpClient(WAL_PUSH_RESOURCE));
        }
        data.put(POSTGRESQL_CONF, PostgresConfig.renderConf(settings));
        data.put(PG_HBA_CONF, PostgresConfig.renderTlsHba(cluster.getSpec().network.allowedCidrs));
        data.put(BOOTSTRAP_SCRIPT, bootstrapScript());
        data.put(ROUTER_AUTH_SQL, RouterAuth.setupSql(ClusterNames.ROUTER_AUTH_USER));
        data.put(FIRST_PRIMARY, firstPrimary == null ? "" : firstPrimary);
        return new ConfigMapBuilder()
                .withMetadata(Meta.owned(cluster, ClusterNames.configMap(name), Meta.clusterLabels(cluster)))
                .withData(data)
                .build();
    }

    /** The instance bootstrap script, shipped in this jar. */
    public static String bootstrapScript() {
        return resource(SCRIPT_RESOURCE);
    }

    /**
     * The script {@code path} with http-client.sh in front of it: each script is shipped as one
     * self-contained text (a ConfigMap key, a CronJob's {@code bash -c}), and the HTTP and TLS client
     * they share is written once.
     */
    static String withHttpClient(String path) {
        return resource(HTTP_CLIENT_RESOURCE) + "\n" + resource(path);
    }

    static String resource(String path) {
        try (InputStream in = ClusterConfigMap.class.getResourceAsStream(path)) {
            if (in == null) {
                throw new IllegalStateException(path + " is missing from the provisioner jar");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
