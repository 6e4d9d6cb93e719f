package io.pgha.router.topology;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.pgha.api.InstancePods;
import io.pgha.api.Labels;
import io.pgha.api.v1.cluster.PostgresCluster;
import io.pgha.api.v1.cluster.RouterSpec;
import org.jboss.logging.Logger;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * The topology and {@code spec.router} of one PostgresCluster on Kubernetes, followed by two
 * informers (watches): the cluster itself, and its instance pods. Each instance is reached at its
 * pod IP and its port named {@link io.pgha.api.ClusterNames#INSTANCE_PORT_NAME}, never through
 * the {@code -ro} service: the router checks each standby's health and replay position over a
 * connection of its own and must send a read to the very server it checked. The mapping is
 * {@link ClusterTopology#placed}; this class only feeds it. {@link #current()} and
 * {@link #routerSpec()} read a field, recomputed on the informers' thread at every event.
 */
public final class KubernetesTopologySource implements TopologySource, AutoCloseable {
    private static final Logger LOG = Logger.getLogger(KubernetesTopologySource.class);

    private final String namespace;
    private final String cluster;
    private final SharedIndexInformer<PostgresCluster> clusterInformer;
    private final SharedIndexInformer<Pod> podInformer;
    private volatile Topology topology = ClusterTopology.NONE;
    private volatile Optional<RouterSpec> routerSpec = Optional.empty();

    /** Starts both informers and returns once each has listed what exists. */
    public KubernetesTopologySource(KubernetesClient client, String namespace, String cluster) {
        this.namespace = namespace;
        this.cluster = cluster;
        ResourceEventHandler<Object> refresh = new ResourceEventHandler<>() {
            @Override
            public void onAdd(Object obj) {
                refresh();
            }

            @Override
            public void onUpdate(Object oldObj, Object newObj) {
                refresh();
            }

            @Override
            public void onDelete(Object obj, boolean deletedFinalStateUnknown) {
                refresh();
            }
        };
        this.podInformer = client.pods().inNamespace(namespace).withLabel(Labels.CLUSTER, cluster)
                .withLabel(Labels.COMPONENT, Labels.COMPONENT_INSTANCE).inform(refresh);
        // by name: the router's Role may read this one PostgresCluster only
        this.clusterInformer = client.resources(PostgresCluster.class).inNamespace(namespace).withName(cluster).inform(refresh);
        refresh();
    }

    @Override
    public Topology current() {
        return topology;
    }

    @Override
    public Optional<RouterSpec> routerSpec() {
        return routerSpec;
    }

    /** False while the constructor still starts the informers, whose first events may already arrive. */
    private boolean started() {
        return clusterInformer != null && podInformer != null;
    }

    // synchronized: the two informers deliver on threads of their own, and an older computation must not win
    private synchronized void refresh() {
        if (!started()) {
            return;
        }
        Optional<PostgresCluster> c = clusterInformer.getStore().list().stream().findFirst();
        Map<String, Pod> pods = podInformer.getStore().list().stream()
                .collect(Collectors.toMap(p -> p.getMetadata().getName(), Function.identity(), (a, b) -> a));
        routerSpec = c.map(x -> x.getSpec() == null ? null : x.getSpec().router);
        Topology next = c.flatMap(x -> ClusterTopology.placed(x, i -> Optional.ofNullable(pods.get(i.name))
                        .flatMap(p -> InstancePods.address(p)
                                .map(a -> new ClusterTopology.Placement(new ServerAddress(a.host(), a.port(), i.name), InstancePods.ready(p))))))
                .orElse(ClusterTopology.NONE);
        if (!next.equals(topology)) {
            LOG.infof("%s/%s: primary %s, standbys %s", namespace, cluster, next.primary(), next.standbys());
        }
        topology = next;
    }

    @Override
    public void close() {
        clusterInformer.close();
        podInformer.close();
    }
}
