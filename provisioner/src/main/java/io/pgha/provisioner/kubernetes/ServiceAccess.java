package io.pgha.provisioner.kubernetes;

import io.fabric8.kubernetes.api.model.rbac.PolicyRuleBuilder;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import io.fabric8.kubernetes.api.model.rbac.RoleBindingBuilder;
import io.fabric8.kubernetes.api.model.rbac.RoleBuilder;
import io.pgha.api.ClusterNames;
import io.pgha.api.v1.cluster.BackupSpec;
import io.pgha.api.v1.cluster.PostgresCluster;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The secrets of one cluster that the monitor and the backup service read, granted per cluster in
 * its namespace and by name, so that no ClusterRole bound to them reads Secrets anywhere: the
 * monitor gets the superuser secret (it connects to the instances as the superuser); the backup
 * service gets the superuser secret (the SQL around a base backup), the replication secret (the
 * base backup itself), the WAL push token (it refuses pushes without it) and the S3 credentials
 * secrets the spec names;
 * both get the CA certificate secret, to verify the instances' server certificates.
 * The provisioner may create these Roles because it holds {@code get} on secrets itself (RBAC's
 * escalation rule).
 */
public final class ServiceAccess {
    private ServiceAccess() {
    }

    public static String name(PostgresCluster cluster, String service) {
        return ClusterNames.serviceAccess(cluster.getMetadata().getName(), service);
    }

    /** The secrets {@code service} ({@link PghaServices#MONITOR} or {@link PghaServices#BACKUP}) reads. */
    static List<String> secrets(PostgresCluster cluster, String service) {
        List<String> names = new ArrayList<>();
        names.add(ClusterNames.superuserSecret(cluster.getMetadata().getName()));
        // the CA certificate alone (never the CA's key): both verify the instances' certificates
        names.add(ClusterNames.caCertificateSecret(cluster.getMetadata().getName()));
        if (service.equals(PghaServices.BACKUP)) {
            // base backups run BASE_BACKUP, which pg_hba.conf allows the replication role alone
            names.add(ClusterNames.replicationSecret(cluster.getMetadata().getName()));
            // the token every WAL push must carry: read at each push, so a rotated token counts from the next one
            names.add(ClusterNames.walPushSecret(cluster.getMetadata().getName()));
            var spec = cluster.getSpec();
            credentials(Optional.ofNullable(spec.backup).map(b -> b.repository).orElse(null)).ifPresent(names::add);
            credentials(Optional.ofNullable(spec.bootstrap.recovery).map(r -> r.repository).orElse(null))
                    .filter(s -> !names.contains(s)).ifPresent(names::add);
        }
        return names;
    }

    private static Optional<String> credentials(BackupSpec.Repository repository) {
        return Optional.ofNullable(repository).map(r -> r.s3).map(s -> s.credentialsSecret);
    }

    public static Role role(PostgresCluster cluster, String service) {
        return new RoleBuilder()
                .withMetadata(Meta.owned(cluster, name(cluster, service), Meta.clusterLabels(cluster)))
                .withRules(new PolicyRuleBuilder().withApiGroups("").withResources("secrets")
                        .withResourceNames(secrets(cluster, service)).withVerbs("get").build())
                .build();
    }

    public static RoleBinding roleBinding(PostgresCluster cluster, String service, PghaServices services) {
        return new RoleBindingBuilder()
                .withMetadata(Meta.owned(cluster, name(cluster, service), Meta.clusterLabels(cluster)))
                .withNewRoleRef().withApiGroup("rbac.authorization.k8s.io").withKind("Role").withName(name(cluster, service)).endRoleRef()
                .addNewSubject().withKind("ServiceAccount").withName(service).withNamespace(services.namespace()).endSubject()
                .build();
    }
}
