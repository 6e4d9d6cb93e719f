package io.pgha.provisioner.kubernetes;

import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.EnvVarBuilder;
import io.fabric8.kubernetes.api.model.VolumeBuilder;
import io.fabric8.kubernetes.api.model.VolumeMountBuilder;
import io.pgha.api.SecretData;
import io.pgha.api.tls.InstanceCertificates;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.ServiceAccountBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentBuilder;
import io.fabric8.kubernetes.api.model.rbac.PolicyRuleBuilder;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import io.fabric8.kubernetes.api.model.rbac.RoleBindingBuilder;
import io.fabric8.kubernetes.api.model.rbac.RoleBuilder;
import io.pgha.api.ClusterNames;
import io.pgha.api.Labels;
import io.pgha.api.v1.cluster.PostgresCluster;

import java.util.ArrayList;
import java.util.List;

/**
 * The router of one cluster: a Deployment with {@code spec.router.replicas} pods that follow the
 * cluster's status, its instance pods and {@code spec.router} themselves, plus their own
 * ServiceAccount that may only read that cluster and the pods of its namespace.
 */
public final class RouterDeployment {
    /** The cluster's CA certificate (public; no key) that the router verifies the instances with. */
    static final String CA_VOLUME = "ca";
    static final String CA_MOUNT = "/etc/pgha/ca";

    /** The same start-up allowance as the kustomize base gives the other services: five minutes. */
    static final int STARTUP_PROBE_PERIOD_SECONDS = 5;
    static final int STARTUP_PROBE_FAILURES = 60;
    public static final int POSTGRES_PORT = 5432;
    public static final String POSTGRES_PORT_NAME = "postgres";
    /** The router's second listener, which sends everything to the primary. */
    public static final int RW_PORT = 5433;
    public static final String RW_PORT_NAME = "postgres-rw";
    public static final int HTTP_PORT = 8080;
    /** The router's {@code pgha.router.topology.source} that follows a PostgresCluster and its pods. */
    static final String TOPOLOGY_SOURCE = "kubernetes";

    private RouterDeployment() {
    }

    /** Name of the Deployment, and of the router's ServiceAccount, Role and RoleBinding. */
    public static String name(PostgresCluster cluster) {
        return ClusterNames.routerDeployment(cluster.getMetadata().getName());
    }

    public static Deployment desired(PostgresCluster cluster, String image) {
        return new DeploymentBuilder()
                .withMetadata(Meta.owned(cluster, name(cluster), Meta.componentLabels(cluster, Labels.COMPONENT_ROUTER)))
                .withNewSpec()
                    .withReplicas(cluster.getSpec().router.replicas)
                    .withNewSelector().withMatchLabels(Meta.componentSelector(cluster, Labels.COMPONENT_ROUTER)).endSelector()
                    .withNewTemplate()
                        .withNewMetadata().withLabels(Meta.componentLabels(cluster, Labels.COMPONENT_ROUTER)).endMetadata()
                        .withNewSpec()
                            .withServiceAccountName(name(cluster))
                            .withEnableServiceLinks(false)
                            .withSecurityContext(PodSecurity.pod(null))
                            .addNewContainer()
                                .withName("router")
                                .withImage(image)
                                .addNewPort().withName(POSTGRES_PORT_NAME).withContainerPort(POSTGRES_PORT).withProtocol("TCP").endPort()
                                .addNewPort().withName(RW_PORT_NAME).withContainerPort(RW_PORT).withProtocol("TCP").endPort()
                                .addNewPort().withName("http").withContainerPort(HTTP_PORT).withProtocol("TCP").endPort()
                                .withEnv(env(cluster))
                                // liveness counts only once the JVM has started: on a busy node a boot of
                                // more than 30 s otherwise ends in a restart loop (the pod runner saw 2-4)
                                .withNewStartupProbe().withNewHttpGet().withPath("/q/health/started").withNewPort("http").endHttpGet()
                                    .withPeriodSeconds(STARTUP_PROBE_PERIOD_SECONDS).withFailureThreshold(STARTUP_PROBE_FAILURES).endStartupProbe()
                                .withNewReadinessProbe().withNewHttpGet().withPath("/q/health/ready").withNewPort("http").endHttpGet()
                                    .withPeriodSeconds(5).endReadinessProbe()
                                .withNewLivenessProbe().withNewHttpGet().withPath("/q/health/live").withNewPort("http").endHttpGet()
                                    .withPeriodSeconds(10).withFailureThreshold(3).endLivenessProbe()
                                .withSecurityContext(PodSecurity.container())
                                .withVolumeMounts(PodSecurity.tmpMount(),
                                        new VolumeMountBuilder().withName(CA_VOLUME).withMountPath(CA_MOUNT).withReadOnly(true).build())
                            .endContainer()
                            .withVolumes(PodSecurity.tmpVolume(),
                                    new VolumeBuilder().withName(CA_VOLUME).withNewSecret()
                                            .withSecretName(ClusterNames.caCertificateSecret(cluster.getMetadata().getName()))
                                            .withDefaultMode(0444).endSecret().build())
                        .endSpec()
                    .endTemplate()
                .endSpec()
                .build();
    }

    /**
     * What the router needs before it can follow the cluster: where to listen, which cluster to
     * watch, and the lookup role's secret. The servers and {@code spec.router} it reads live from
     * the cluster and its pods (its Kubernetes topology source), so neither is here: a
     * {@code spec.router} change leaves the pod template, and the running routers, alone and the
     * routers reload it without a restart. {@code replicas} is the only router setting this
     * Deployment takes from the spec.
     */
    static List<EnvVar> env(PostgresCluster cluster) {
        String name = cluster.getMetadata().getName();
        List<EnvVar> env = new ArrayList<>();
        env.add(new EnvVar("PGHA_CLUSTER", name, null));
        env.add(new EnvVarBuilder().withName("PGHA_NAMESPACE").withNewValueFrom().withNewFieldRef()
                .withFieldPath("metadata.namespace").endFieldRef().endValueFrom().build());
        env.add(new EnvVar("PGHA_HTTP_HOST", "0.0.0.0", null));
        env.add(new EnvVar("PGHA_HTTP_PORT", Integer.toString(HTTP_PORT), null));
        // pgha.router.* (the router's RouterConfig)
        env.add(new EnvVar("PGHA_ROUTER_HOST", "0.0.0.0", null));
        env.add(new EnvVar("PGHA_ROUTER_PORT", Integer.toString(POSTGRES_PORT), null));
        env.add(new EnvVar("PGHA_ROUTER_RW_PORT", Integer.toString(RW_PORT), null));
        env.add(new EnvVar("PGHA_ROUTER_TOPOLOGY_SOURCE", TOPOLOGY_SOURCE, null));
        // every server connection verifies the instance's certificate against the cluster's CA and the instance's name
        env.add(new EnvVar("PGHA_ROUTER_SERVER_CA_FILE", CA_MOUNT + "/" + InstanceCertificates.CA_CERT, null));
        env.add(secretEnv("PGHA_ROUTER_AUTH_USER", ClusterNames.routerAuthSecret(name), SecretData.USERNAME));
        env.add(secretEnv("PGHA_ROUTER_AUTH_PASSWORD", ClusterNames.routerAuthSecret(name), SecretData.PASSWORD));
        return env;
    }

    private static EnvVar secretEnv(String env, String secret, String key) {
        return new EnvVarBuilder().withName(env).withNewValueFrom().withNewSecretKeyRef().withName(secret).withKey(key)
                .endSecretKeyRef().endValueFrom().build();
    }

    public static ServiceAccount serviceAccount(PostgresCluster cluster) {
        return new ServiceAccountBuilder()
                .withMetadata(Meta.owned(cluster, name(cluster), Meta.componentLabels(cluster, Labels.COMPONENT_ROUTER)))
                .withAutomountServiceAccountToken(true)
                .build();
    }

    /**
     * What the router's topology source reads, in this namespace only: its own PostgresCluster
     * (watched by name, which RBAC authorizes against {@code resourceNames}) and the pods, whose
     * IPs and Ready conditions place the instances (a label selector cannot be narrowed by name).
     */
    public static Role role(PostgresCluster cluster) {
        return new RoleBuilder()
                .withMetadata(Meta.owned(cluster, name(cluster), Meta.componentLabels(cluster, Labels.COMPONENT_ROUTER)))
                .withRules(new PolicyRuleBuilder().withApiGroups(PostgresCluster.GROUP).withResources("postgresclusters")
                                .withResourceNames(cluster.getMetadata().getName())
                                .withVerbs("get", "list", "watch").build(),
                        new PolicyRuleBuilder().withApiGroups("").withResources("pods").withVerbs("get", "list", "watch").build())
                .build();
    }

    public static RoleBinding roleBinding(PostgresCluster cluster) {
        return new RoleBindingBuilder()
                .withMetadata(Meta.owned(cluster, name(cluster), Meta.componentLabels(cluster, Labels.COMPONENT_ROUTER)))
                .withNewRoleRef().withApiGroup("rbac.authorization.k8s.io").withKind("Role").withName(name(cluster)).endRoleRef()
                .addNewSubject().withKind("ServiceAccount").withName(name(cluster))
                    .withNamespace(cluster.getMetadata().getNamespace()).endSubject()
                .build();
    }
}
