package io.pgha.provisioner.kubernetes;

import java.util.List;
import java.util.Map;

/**
 * Where pgha's own services run, as the kustomize base installs them: each is a Deployment, a
 * ServiceAccount and an {@code app.kubernetes.io/name} pod label of the same name, in one
 * namespace (the provisioner's own, {@code pgha.kubernetes.services-namespace}). The per-cluster
 * RoleBindings name their ServiceAccounts and the NetworkPolicy selects their pods by these.
 *
 * <p>{@code backupTls}: whether the instances and the schedule CronJobs reach the backup service
 * over HTTPS, verified against the CA of {@link #BACKUP_CA_SECRET} (the Deployment of the base),
 * or over plain HTTP ({@code pgha.kubernetes.backup-tls=false}: the knative overlay, where the
 * connection ends at Knative's proxy, not at the service; see kustomize/README.md).
 */
public record PghaServices(String namespace, boolean backupTls) {
    public static final String MONITOR = "pgha-monitor";
    public static final String BACKUP = "pgha-backup";
    /** The label the kustomize base gives each service's pods. */
    public static final String NAME_LABEL = "app.kubernetes.io/name";
    /** The label Kubernetes (1.22 and later) puts on every namespace: its name. */
    public static final String NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name";

    /** The HTTPS port of the backup service's Service (kustomize/base/backup.yaml), where archive_command pushes WAL. */
    public static final int BACKUP_HTTPS_PORT = 443;
    /** The plain HTTP port of the backup service's Knative Service (the knative overlay). */
    public static final int BACKUP_HTTP_PORT = 80;
    /**
     * Secret with the CA that signs the backup service's certificate (certificate and key), in the
     * services' namespace: made once by the provisioner, read by the provisioner only.
     */
    public static final String BACKUP_CA_SECRET = "pgha-backup-ca";
    /**
     * Secret ({@code kubernetes.io/tls}) with the backup service's server certificate, its key and
     * the CA certificate: the backup Deployment serves HTTPS from it (kustomize/base/backup.yaml).
     */
    public static final String BACKUP_TLS_SECRET = "pgha-backup-tls";

    /** The backup service's Service as the instances' pods resolve it. */
    public String backupHost() {
        return BACKUP + "." + namespace + ".svc";
    }

    /** Scheme, host and port of the backup service as the instances and the schedule CronJobs call it. */
    public String backupBaseUrl() {
        return backupTls ? "https://" + backupHost() + ":" + BACKUP_HTTPS_PORT : "http://" + backupHost() + ":" + BACKUP_HTTP_PORT;
    }

    /**
     * The DNS names the backup service's certificate carries: every name its Service answers to
     * inside the cluster; {@link #backupHost} (the one the instances call) among them.
     */
    public List<String> backupServerNames() {
        String qualified = BACKUP + "." + namespace;
        return List.of(BACKUP, qualified, qualified + ".svc", qualified + ".svc.cluster.local");
    }

    /** The pod selector of one service. */
    public static Map<String, String> podSelector(String service) {
        return Map.of(NAME_LABEL, service);
    }
}
