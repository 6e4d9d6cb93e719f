package io.pgha.provisioner.kubernetes;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.EnvVarBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.ProbeBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.ResourceRequirements;
import io.fabric8.kubernetes.api.model.ResourceRequirementsBuilder;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeBuilder;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.VolumeMountBuilder;
import io.pgha.api.ClusterNames;
import io.pgha.api.Labels;
import io.pgha.api.PrimaryIsolation;
import io.pgha.api.SecretData;
import io.pgha.api.tls.InstanceCertificates;
import io.pgha.api.v1.cluster.PostgresCluster;
import io.pgha.api.v1.cluster.ResourcesSpec;
import io.pgha.provisioner.model.PostgresConfig;
import io.pgha.provisioner.model.RestartSettings;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One PostgreSQL instance: a pod named like the instance, owned by the cluster, with its own PVC.
 * The container is the stock postgres image running the bootstrap script from the ConfigMap,
 * which decides between initdb, clone, rejoin and plain start.
 */
public final class InstancePod {
    public static final int PORT = 5432;
    public static final String PORT_NAME = ClusterNames.INSTANCE_PORT_NAME;
    public static final String CONTAINER = ClusterNames.INSTANCE_CONTAINER;
    /** The uid and gid of the postgres user in the official image. */
    public static final long POSTGRES_UID = 999;
    public static final String DATA_MOUNT = "/var/lib/postgresql/data";
    /** A directory below the mount point: initdb wants an empty directory, and a volume root holds lost+found. */
    public static final String PGDATA = DATA_MOUNT + "/pgdata";
    public static final String CONFIG_MOUNT = "/etc/pgha/config";
    public static final String SECRETS_MOUNT = "/etc/pgha/secrets";
    /** The cluster's WAL push token in the secrets volume: wal-push.sh reads it for every push, so a rotated token is used once kubelet refreshes the file. */
    public static final String WAL_PUSH_TOKEN_FILE = SECRETS_MOUNT + "/wal-push-token";
    /** The CA certificate wal-push.sh verifies the backup service against, from the cluster's CA certificate Secret. */
    public static final String BACKUP_CA_FILE = SECRETS_MOUNT + "/" + InstanceCertificates.BACKUP_CA_CERT;
    public static final String PODINFO_MOUNT = "/etc/pgha/podinfo";
    public static final String RUN_MOUNT = "/var/run/postgresql";
    /** The instance's certificate Secret as kubelet keeps it current (files owned by root, so not usable by PostgreSQL as they are). */
    public static final String TLS_MOUNT = "/etc/pgha/tls";
    /** Where bootstrap.sh installs the certificate and a 0600 copy of the key that the server reads (postgresql.conf names it). */
    public static final String SERVER_TLS_DIR = RUN_MOUNT + "/tls";

    private InstancePod() {
    }

    /** The labels of an instance pod; the role label is what the -rw and -ro services select on. */
    public static Map<String, String> labels(PostgresCluster cluster, String instance, String role) {
        Map<String, String> labels = Meta.componentLabels(cluster, Labels.COMPONENT_INSTANCE);
        labels.put(Labels.INSTANCE, instance);
        labels.put(Labels.ROLE, role);
        return labels;
    }

    /**
     * The settings that need a server restart, recorded on the pod it was created for: a change of
     * them makes the pod out of date (it is recreated), and tells which instance restarts first.
     */
    public static final String RESTART_SETTINGS_ANNOTATION = "pgha.io/restart-settings";

    /** The restart settings of the cluster's shared configuration. */
    public static Map<String, String> restartSettings(PostgresCluster cluster) {
        return RestartSettings.of(PostgresConfig.sharedSettings(cluster.getSpec(), List.of()));
    }

    public static Pod desired(PostgresCluster cluster, int serial, String role) {
        String name = cluster.getMetadata().getName();
        String instance = ClusterNames.instance(name, serial);
        var meta = Meta.owned(cluster, instance, labels(cluster, instance, role));
        meta.setAnnotations(new LinkedHashMap<>(Map.of(RESTART_SETTINGS_ANNOTATION, RestartSettings.render(restartSettings(cluster)))));
        return new PodBuilder()
                .withMetadata(meta)
                .withNewSpec()
                    .withHostname(instance)
                    // the token a primary proves API access with (bootstrap.sh live) and a restarted primary reads its
                    // confirmed role with (bootstrap.sh run): it may only get the cluster's instance pods by name
                    .withServiceAccountName(ClusterNames.instanceServiceAccount(name))
                    .withAutomountServiceAccountToken(true)
                    .withRestartPolicy("Always")
                    .withTerminationGracePeriodSeconds(60L)
                    .withEnableServiceLinks(false)
                    .withSecurityContext(PodSecurity.pod(POSTGRES_UID))
                    .withNewAffinity()
                        .withNewPodAntiAffinity()
                            // preferred, not required: a one-node development cluster still runs every instance
                            .addNewPreferredDuringSchedulingIgnoredDuringExecution()
                                .withWeight(100)
                                .withNewPodAffinityTerm()
                                    .withTopologyKey("kubernetes.io/hostname")
                                    .withNewLabelSelector()
                                        .withMatchLabels(Meta.componentSelector(cluster, Labels.COMPONENT_INSTANCE))
                                    .endLabelSelector()
                                .endPodAffinityTerm()
                            .endPreferredDuringSchedulingIgnoredDuringExecution()
                        .endPodAntiAffinity()
                    .endAffinity()
                    .withContainers(container(cluster, instance))
                    .withVolumes(volumes(cluster, instance))
                .endSpec()
                .build();
    }

    private static Container container(PostgresCluster cluster, String instance) {
        return new ContainerBuilder()
                .withName(CONTAINER)
                .withImage(cluster.getSpec().postgres.image)
                .withCommand("/bin/bash", CONFIG_MOUNT + "/" + ClusterConfigMap.BOOTSTRAP_SCRIPT)
                .withArgs("run")
                .addNewPort().withName(PORT_NAME).withContainerPort(PORT).withProtocol("TCP").endPort()
                .withEnv(env(cluster, instance))
                .withResources(resources(cluster.getSpec().resources))
                .withStartupProbe(startupProbe())
                .withReadinessProbe(readinessProbe())
                .withLivenessProbe(livenessProbe())
                .withVolumeMounts(mounts())
                .withSecurityContext(PodSecurity.container())
                .build();
    }

    static List<EnvVar> env(PostgresCluster cluster, String instance) {
        String name = cluster.getMetadata().getName();
        List<EnvVar> env = new ArrayList<>();
        env.add(new EnvVar("PGHA_CLUSTER", name, null));
        env.add(new EnvVar("PGHA_INSTANCE", instance, null));
        env.add(new EnvVar("PGDATA", PGDATA, null));
        env.add(new EnvVar("PGHA_PORT", Integer.toString(PORT), null));
        // the read-write service selects the pod labelled primary: clones and rejoins stream from it
        env.add(new EnvVar("PGHA_PRIMARY_HOST", ClusterNames.readWriteService(name), null));
        env.add(new EnvVar("PGHA_CONFIG_DIR", CONFIG_MOUNT, null));
        env.add(new EnvVar("PGHA_SECRETS_DIR", SECRETS_MOUNT, null));
        env.add(new EnvVar("PGHA_LABELS_FILE", PODINFO_MOUNT + "/labels", null));
        env.add(new EnvVar("PGHA_RUN_DIR", RUN_MOUNT, null));
        env.add(new EnvVar("PGHA_TLS_DIR", TLS_MOUNT, null));
        env.add(new EnvVar("PGHA_SERVER_TLS_DIR", SERVER_TLS_DIR, null));
        // the isolation check's numbers: PrimaryIsolation derives the bound the monitor waits for from them
        env.add(new EnvVar("PGHA_ISOLATION_SECONDS", Integer.toString(PrimaryIsolation.ISOLATION_SECONDS), null));
        env.add(new EnvVar("PGHA_API_TIMEOUT_SECONDS", Integer.toString(PrimaryIsolation.REQUEST_TIMEOUT_SECONDS), null));
        env.add(new EnvVar("PGHA_STOP_SECONDS", Integer.toString(PrimaryIsolation.STOP_TIMEOUT_SECONDS), null));
        env.add(new EnvVar("PGHA_LOCALE", cluster.getSpec().bootstrap.effectiveInitdb().locale, null));
        env.add(new EnvVarBuilder().withName("PGHA_POD_IP")
                .withNewValueFrom().withNewFieldRef().withFieldPath("status.podIP").endFieldRef().endValueFrom().build());
        return env;
    }

    static ResourceRequirements resources(ResourcesSpec spec) {
        ResourceRequirementsBuilder b = new ResourceRequirementsBuilder();
        if (spec != null && spec.requests != null) {
            b.withRequests(amounts(spec.requests));
        }
        if (spec != null && spec.limits != null) {
            b.withLimits(amounts(spec.limits));
        }
        return b.build();
    }

    private static Map<String, Quantity> amounts(ResourcesSpec.Amounts amounts) {
        Map<String, Quantity> out = new LinkedHashMap<>();
        if (amounts.cpu != null) {
            out.put("cpu", new Quantity(amounts.cpu));
        }
        if (amounts.memory != null) {
            out.put("memory", new Quantity(amounts.memory));
        }
        return out;
    }

    /** Crash recovery or a long clone may take a while; liveness only counts once this passed. */
    private static Probe startupProbe() {
        return new ProbeBuilder().withNewExec().withCommand(script("ready")).endExec()
                .withPeriodSeconds(10).withTimeoutSeconds(5).withFailureThreshold(360).build();
    }

    /** Ready: the server accepts connections (a standby: and streams). */
    private static Probe readinessProbe() {
        return new ProbeBuilder().withNewExec().withCommand(script("ready")).endExec()
                .withPeriodSeconds(5).withTimeoutSeconds(5).withFailureThreshold(3).build();
    }

    /**
     * Alive: the server answers and, on a primary, it proves it reaches the API server (an isolated
     * one stops its own server; see {@link PrimaryIsolation} for the timing).
     */
    private static Probe livenessProbe() {
        return new ProbeBuilder().withNewExec().withCommand(script("live")).endExec()
                .withPeriodSeconds(PrimaryIsolation.PROBE_PERIOD_SECONDS).withTimeoutSeconds(PrimaryIsolation.PROBE_TIMEOUT_SECONDS)
                .withFailureThreshold(PrimaryIsolation.PROBE_FAILURE_THRESHOLD).build();
    }

    private static List<String> script(String mode) {
        return List.of("/bin/bash", CONFIG_MOUNT + "/" + ClusterConfigMap.BOOTSTRAP_SCRIPT, mode);
    }

    private static List<VolumeMount> mounts() {
        return List.of(
                new VolumeMountBuilder().withName("data").withMountPath(DATA_MOUNT).build(),
                new VolumeMountBuilder().withName("config").withMountPath(CONFIG_MOUNT).withReadOnly(true).build(),
                new VolumeMountBuilder().withName("secrets").withMountPath(SECRETS_MOUNT).withReadOnly(true).build(),
                new VolumeMountBuilder().withName("podinfo").withMountPath(PODINFO_MOUNT).withReadOnly(true).build(),
                new VolumeMountBuilder().withName("run").withMountPath(RUN_MOUNT).build(),
                new VolumeMountBuilder().withName("tls").withMountPath(TLS_MOUNT).withReadOnly(true).build(),
                PodSecurity.tmpMount());
    }

    private static List<Volume> volumes(PostgresCluster cluster, String instance) {
        String name = cluster.getMetadata().getName();
        return List.of(
                new VolumeBuilder().withName("data").withNewPersistentVolumeClaim().withClaimName(InstancePvc.name(cluster, instance))
                        .endPersistentVolumeClaim().build(),
                new VolumeBuilder().withName("config").withNewConfigMap().withName(ClusterNames.configMap(name))
                        .withDefaultMode(0444).endConfigMap().build(),
                new VolumeBuilder().withName("secrets").withNewProjected().withDefaultMode(0400)
                        .addNewSource().withNewSecret().withName(ClusterNames.superuserSecret(name))
                            .addNewItem().withKey(SecretData.PASSWORD).withPath("superuser-password").endItem().endSecret().endSource()
                        .addNewSource().withNewSecret().withName(ClusterNames.replicationSecret(name))
                            .addNewItem().withKey(SecretData.PASSWORD).withPath("replication-password").endItem().endSecret().endSource()
                        .addNewSource().withNewSecret().withName(ClusterNames.appSecret(name))
                            .addNewItem().withKey(SecretData.PASSWORD).withPath("app-password").endItem()
                            .addNewItem().withKey(SecretData.USERNAME).withPath("app-username").endItem()
                            .addNewItem().withKey(ClusterSecrets.DATABASE).withPath("app-database").endItem().endSecret().endSource()
                        .addNewSource().withNewSecret().withName(ClusterNames.routerAuthSecret(name))
                            .addNewItem().withKey(SecretData.PASSWORD).withPath("router-auth-password").endItem().endSecret().endSource()
                        .addNewSource().withNewSecret().withName(ClusterNames.walPushSecret(name))
                            .addNewItem().withKey(ClusterNames.WAL_PUSH_TOKEN_KEY)
                            .withPath(WAL_PUSH_TOKEN_FILE.substring(SECRETS_MOUNT.length() + 1)).endItem().endSecret().endSource()
                        .addNewSource().withNewSecret().withName(ClusterNames.caCertificateSecret(name))
                            .addNewItem().withKey(InstanceCertificates.BACKUP_CA_CERT)
                            .withPath(BACKUP_CA_FILE.substring(SECRETS_MOUNT.length() + 1)).endItem().endSecret().endSource()
                        .endProjected().build(),
                // the labels as a file kubelet keeps current: the bootstrap script reads the role the operator assigned
                new VolumeBuilder().withName("podinfo").withNewDownwardAPI()
                        .addNewItem().withPath("labels").withNewFieldRef().withFieldPath("metadata.labels").endFieldRef().endItem()
                        .endDownwardAPI().build(),
                new VolumeBuilder().withName("run").withNewEmptyDir().endEmptyDir().build(),
                new VolumeBuilder().withName("tls").withNewSecret().withSecretName(ClusterNames.instanceTlsSecret(instance))
                        .withDefaultMode(0400).endSecret().build(),
                PodSecurity.tmpVolume());
    }
}
