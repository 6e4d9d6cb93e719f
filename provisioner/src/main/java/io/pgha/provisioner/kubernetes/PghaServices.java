package io.pgha.provisioner.kubernetes;

import java.util.Map;

/**
 * Where pgha's own services run, as the kustomize base installs them: each is a Deployment, a
 * ServiceAccount and an {@code app.kubernetes.io/name} pod label of the same name, in one
 * namespace (the provisioner's own, {@code pgha.kubernetes.services-namespace}). The per-cluster
 * RoleBindings name their ServiceAccounts and the NetworkPolicy selects their pods by these.
 */
public record PghaServices(String namespace) {
    public static final String MONITOR = "pgha-monitor";
    public static final String BACKUP = "pgha-backup";
    /** The label the kustomize base gives each service's pods. */
    public static final String NAME_LABEL = "app.kubernetes.io/name";
    /** The label Kubernetes (1.22 and later) puts on every namespace: its name. */
    public static final String NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name";

    /** The port of the backup service's Service (kustomize/base/backup.yaml), where archive_command pushes WAL. */
    public static final int BACKUP_SERVICE_PORT = 80;

    /** The backup service's Service as the instances' pods resolve it. */
    public String backupHost() {
        return BACKUP + "." + namespace + ".svc";
    }

    /** The pod selector of one service. */
    public static Map<String, String> podSelector(String service) {
        return Map.of(NAME_LABEL, service);
    }
}
