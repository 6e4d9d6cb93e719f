package io.pgha.monitor.kubernetes;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.pgha.api.ClusterNames;
import io.pgha.api.Labels;
import io.pgha.monitor.service.ClusterSource;
import io.pgha.monitor.service.Fencer;
import io.pgha.monitor.service.InstanceDirectory;
import io.pgha.monitor.service.Lease;
import io.pgha.monitor.service.Platform;
import io.pgha.monitor.service.RoleMarker;

import java.time.Clock;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The monitor on Kubernetes ({@code pgha.platform=kubernetes}): PostgresClusters of one namespace
 * or of every namespace it may read, a Lease per cluster next to it, instance pods reached at
 * their IPs, role labels for the services, fencing by label and pod deletion.
 */
public final class KubernetesPlatform implements Platform {
    /** The value of {@code pgha.platform} that selects it. */
    public static final String NAME = "kubernetes";

    private final KubernetesClient client;
    private final Optional<String> namespace;
    private final Clock clock;
    private final ClusterSource clusters;
    private final String instanceCaFile;

    public KubernetesPlatform(KubernetesClient client, Optional<String> namespace, Clock clock) {
        this(client, namespace, clock, KubernetesInstances.CA_FILE);
    }

    /**
     * With {@code instanceCaFile}, where the instances find the cluster's CA certificate for their
     * replication connections: bootstrap.sh's path in a pod; a test whose instances run as local
     * processes keeps it elsewhere.
     */
    KubernetesPlatform(KubernetesClient client, Optional<String> namespace, Clock clock, String instanceCaFile) {
        this.client = client;
        this.namespace = namespace;
        this.clock = clock;
        this.clusters = new KubernetesClusters(client, namespace);
        this.instanceCaFile = instanceCaFile;
    }

    @Override
    public ClusterSource clusters() {
        return clusters;
    }

    @Override
    public Lease lease(String namespace, String cluster, String identity, Duration duration) {
        return new KubernetesLease(client, namespace, ClusterNames.monitorLease(cluster), identity, duration, clock);
    }

    @Override
    public InstanceDirectory instances(String namespace, String cluster) {
        return new KubernetesInstances(client, namespace, cluster, instanceCaFile);
    }

    @Override
    public Fencer fencer(String namespace, String cluster) {
        return new KubernetesFencer(client, namespace);
    }

    @Override
    public RoleMarker roles(String namespace, String cluster) {
        return new KubernetesRoles(client, namespace, cluster);
    }

    @Override
    public String describe() {
        return "PostgresClusters in " + namespace.map(n -> "namespace " + n).orElse("every namespace") + " at "
                + client.getMasterUrl();
    }

    /** The instance pods of a cluster, by name. */
    static Map<String, Pod> instancePods(KubernetesClient client, String namespace, String cluster) {
        Map<String, Pod> pods = new LinkedHashMap<>();
        client.pods().inNamespace(namespace).withLabel(Labels.CLUSTER, cluster)
                .withLabel(Labels.COMPONENT, Labels.COMPONENT_INSTANCE).list().getItems()
                .forEach(p -> pods.put(p.getMetadata().getName(), p));
        return pods;
    }
}
