package io.pgha.provisioner.kubernetes;

import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.batch.v1.CronJob;
import io.fabric8.kubernetes.api.model.batch.v1.CronJobBuilder;
import io.pgha.api.ClusterNames;
import io.pgha.api.v1.cluster.BackupSpec;
import io.pgha.api.tls.InstanceCertificates;
import io.pgha.api.v1.cluster.PostgresCluster;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.BinaryOperator;
import java.util.function.Function;
import java.util.function.UnaryOperator;

/**
 * The wake-up of {@code spec.backup.schedule} when the backup service is a Knative Service that
 * scales to zero ({@code PGHA_BACKUP_TRIGGER=cronjob}, set by the knative overlay): a scaled-to-zero
 * service has no clock, so a CronJob per cluster calls its schedule trigger
 * ({@link ClusterNames#scheduleTriggerPath}) at each slot; the request wakes it, and the service
 * decides with its own schedule code what is due. One CronJob per cluster at the cluster's own slots,
 * not one shared trigger every minute, which would keep the service from ever scaling to zero.
 *
 * <p>{@code spec.backup.verify} gets a second CronJob of the same kind ({@link Trigger#VERIFY}): a
 * restore drill must run inside a request too, or Knative may scale the pod away in the middle of it.
 *
 * <p>The job runs backup-trigger.sh with bash in the cluster's own PostgreSQL image: that image is
 * already trusted and pulled for the instances, and its Debian base has bash with {@code /dev/tcp},
 * as wal-push.sh relies on; a curl image would be one more image to mirror and keep patched. The
 * token comes from the cluster's WAL token Secret as a read-only file, read by bash builtins (never
 * on a command line), and the pod gets no ServiceAccount token: it talks to the backup service only.
 */
public final class BackupScheduleCronJob {
    /** The value of {@code pgha.backup.trigger} ({@code PGHA_BACKUP_TRIGGER}) that turns these CronJobs on. */
    public static final String MODE = "cronjob";
    static final String SCRIPT_RESOURCE = "/io/pgha/provisioner/kubernetes/backup-trigger.sh";
    static final String CONTAINER = "trigger";
    static final String TOKEN_VOLUME = "wal-push-token";
    static final String TOKEN_MOUNT = "/etc/pgha/secrets";
    static final String TOKEN_FILE = TOKEN_MOUNT + "/" + ClusterNames.WAL_PUSH_TOKEN_KEY;
    /** The CA certificate the trigger verifies the backup service against, from the cluster's CA certificate Secret. */
    static final String BACKUP_CA_VOLUME = "backup-ca";
    static final String BACKUP_CA_MOUNT = "/etc/pgha/backup-ca";
    static final String BACKUP_CA_FILE = BACKUP_CA_MOUNT + "/" + InstanceCertificates.BACKUP_CA_CERT;
    /** The cron of spec.backup is UTC; the CronJob says so rather than take the controller's zone. */
    static final String TIME_ZONE = "Etc/UTC";
    /**
     * A job started this late is skipped: the next slot's serves the cluster, since the service makes
     * one backup for missed slots. It also keeps the controller from giving up on a CronJob after
     * more than 100 missed starts (it counts only within this deadline).
     */
    static final long STARTING_DEADLINE_SECONDS = 600;

    /** What a CronJob wakes the service for: a cluster's scheduled backups, or its restore drills. */
    public enum Trigger {
        SCHEDULE(ClusterNames::backupScheduleCronJob, b -> b.schedule, ClusterNames::scheduleTriggerPath),
        VERIFY(ClusterNames::backupVerifyCronJob, b -> b.verify, ClusterNames::drillTriggerPath);

        private final UnaryOperator<String> name;
        private final Function<BackupSpec, String> cron;
        private final BinaryOperator<String> path;

        Trigger(UnaryOperator<String> name, Function<BackupSpec, String> cron, BinaryOperator<String> path) {
            this.name = name;
            this.cron = cron;
            this.path = path;
        }

        /** The cron field of spec.backup this CronJob follows, null when there is none. */
        String cron(PostgresCluster cluster) {
            BackupSpec backup = cluster.getSpec().backup;
            String c = backup == null ? null : cron.apply(backup);
            return c == null || c.isBlank() ? null : c;
        }
    }

    /** What a reconcile pass does about the cluster's CronJob. */
    public enum Step {
        /** Not in the cronjob mode: the CronJob is none of this provisioner's business (nor in its RBAC). */
        LEAVE,
        /** The cluster has a schedule: the CronJob as {@link #desired}. */
        APPLY,
        /** No schedule (any more): no CronJob. */
        DELETE
    }

    private BackupScheduleCronJob() {
    }

    /**
     * The step for {@code cluster} under {@code mode} (the value of {@code pgha.backup.trigger});
     * IllegalArgumentException naming the setting for an unknown mode.
     */
    public static Step step(Optional<String> mode, PostgresCluster cluster) {
        return step(mode, cluster, Trigger.SCHEDULE);
    }

    /** As {@link #step(Optional, PostgresCluster)}, for the CronJob of {@code trigger}. */
    public static Step step(Optional<String> mode, PostgresCluster cluster, Trigger trigger) {
        if (mode.isEmpty() || mode.get().isBlank()) {
            return Step.LEAVE;
        }
        if (!MODE.equals(mode.get())) {
            throw new IllegalArgumentException("PGHA_BACKUP_TRIGGER: unknown value '" + mode.get() + "'; the only one is '" + MODE
                    + "' (the knative overlay's), or leave it unset");
        }
        return trigger.cron(cluster) != null ? Step.APPLY : Step.DELETE;
    }

    public static String name(PostgresCluster cluster) {
        return name(cluster, Trigger.SCHEDULE);
    }

    public static String name(PostgresCluster cluster, Trigger trigger) {
        return trigger.name.apply(cluster.getMetadata().getName());
    }

    /** The CronJob of a cluster with {@code spec.backup.schedule}, calling the backup service of {@code services}. */
    public static CronJob desired(PostgresCluster cluster, PghaServices services) {
        return desired(cluster, services, Trigger.SCHEDULE);
    }

    /** The CronJob of {@code trigger} for a cluster with its cron field, calling the backup service of {@code services}. */
    public static CronJob desired(PostgresCluster cluster, PghaServices services, Trigger trigger) {
        String name = cluster.getMetadata().getName();
        String url = services.backupBaseUrl() + trigger.path.apply(cluster.getMetadata().getNamespace(), name);
        return new CronJobBuilder()
                .withMetadata(Meta.owned(cluster, name(cluster, trigger), Meta.clusterLabels(cluster)))
                .withNewSpec()
                    .withSchedule(forKubernetes(trigger.cron(cluster)))
                    .withTimeZone(TIME_ZONE)
                    // a slot that comes while the last call still waits on its backup is served by that backup
                    .withConcurrencyPolicy("Forbid")
                    .withStartingDeadlineSeconds(STARTING_DEADLINE_SECONDS)
                    .withSuccessfulJobsHistoryLimit(1)
                    .withFailedJobsHistoryLimit(3)
                    .withNewJobTemplate()
                        .withNewMetadata().withLabels(Meta.clusterLabels(cluster)).endMetadata()
                        .withNewSpec()
                            // a retry would find the slot served and succeed, hiding the failed backup
                            .withBackoffLimit(0)
                            .withNewTemplate()
                                .withNewMetadata().withLabels(Meta.clusterLabels(cluster)).endMetadata()
                                .withNewSpec()
                                    .withRestartPolicy("Never")
                                    .withAutomountServiceAccountToken(false)
                                    .withEnableServiceLinks(false)
                                    .withSecurityContext(PodSecurity.pod(InstancePod.POSTGRES_UID))
                                    .addNewContainer()
                                        .withName(CONTAINER)
                                        .withImage(cluster.getSpec().postgres.image)
                                        .withCommand("bash", "-c", ClusterConfigMap.withHttpClient(SCRIPT_RESOURCE), "backup-trigger", url, TOKEN_FILE,
                                                BACKUP_CA_FILE)
                                        .withSecurityContext(PodSecurity.container())
                                        .withNewResources()
                                            .addToRequests("cpu", new Quantity("10m"))
                                            .addToRequests("memory", new Quantity("16Mi"))
                                            .addToLimits("memory", new Quantity("64Mi"))
                                        .endResources()
                                        .addNewVolumeMount().withName(TOKEN_VOLUME).withMountPath(TOKEN_MOUNT).withReadOnly(true).endVolumeMount()
                                        .addNewVolumeMount().withName(BACKUP_CA_VOLUME).withMountPath(BACKUP_CA_MOUNT).withReadOnly(true).endVolumeMount()
                                    .endContainer()
                                    .addNewVolume().withName(TOKEN_VOLUME).withNewSecret()
                                        .withSecretName(ClusterNames.walPushSecret(name)).withDefaultMode(0400)
                                        .addNewItem().withKey(ClusterNames.WAL_PUSH_TOKEN_KEY).withPath(ClusterNames.WAL_PUSH_TOKEN_KEY).endItem()
                                    .endSecret().endVolume()
                                    .addNewVolume().withName(BACKUP_CA_VOLUME).withNewSecret()
                                        .withSecretName(ClusterNames.caCertificateSecret(name)).withDefaultMode(0444)
                                        .addNewItem().withKey(InstanceCertificates.BACKUP_CA_CERT).withPath(InstanceCertificates.BACKUP_CA_CERT).endItem()
                                    .endSecret().endVolume()
                                .endSpec()
                            .endTemplate()
                        .endSpec()
                    .endJobTemplate()
                .endSpec()
                .build();
    }

    /**
     * {@code schedule} as Kubernetes' cron parser takes it: pgha's (and cron's) day of week 7 is
     * Sunday, which Kubernetes refuses (0-6 only), so a 7 becomes 0 and a range ending at 7 ends at
     * 6 plus 0. The backup service reads the original; this only decides when it is woken.
     */
    static String forKubernetes(String schedule) {
        String[] fields = schedule.trim().split("\\s+");
        if (fields.length != 5) {
            return schedule;
        }
        List<String> days = new ArrayList<>();
        for (String item : fields[4].split(",")) {
            if (item.equals("7")) {
                days.add("0");
            } else if (item.matches("[0-6]-7")) {
                days.add(item.charAt(0) + "-6");
                days.add("0");
            } else {
                days.add(item);
            }
        }
        fields[4] = String.join(",", days);
        return String.join(" ", fields);
    }
}
