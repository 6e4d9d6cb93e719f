package io.pgha.router.topology;

import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.pgha.api.ClusterNames;
import io.pgha.api.Labels;
import io.pgha.api.v1.cluster.PostgresCluster;
import io.pgha.api.v1.cluster.PostgresClusterSpec;
import io.pgha.api.v1.cluster.PostgresClusterStatus;
import io.pgha.api.v1.cluster.ProvisioningStatus;
import io.pgha.api.v1.cluster.RouterSpec;
import io.pgha.api.v1.cluster.TopologyStatus;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link KubernetesTopologySource} against the fabric8 mock API server (CRUD mode), which stands
 * in for the provisioner (cluster, pods), the monitor (status) and the kubelet (pod IPs, Ready).
 */
@EnableKubernetesMockClient(crud = true)
class KubernetesTopologySourceMockTest {
    static KubernetesClient client;
    /** How soon a recorded failover must reach {@code current()}. */
    private static final Duration FOLLOWS = Duration.ofSeconds(1);
    /** A bound for everything else, generous for a loaded machine. */
    private static final Duration SETTLES = Duration.ofSeconds(5);

    /** The address of the instance at {@code ip}, with the instance's name its certificate must carry: pg-N at 10.0.0.N or 10.0.0.1N. */
    private static ServerAddress at(String ip) {
        int octet = Integer.parseInt(ip.substring(ip.lastIndexOf('.') + 1));
        return new ServerAddress(ip, 5432, ClusterNames.instance("pg", octet % 10));
    }

    /** A 3-instance cluster pg with pg-1 as primary, Ready pods at 10.0.0.1..3, and the router's source on it. */
    private static KubernetesTopologySource cluster(String ns) {
        PostgresCluster c = new PostgresCluster();
        c.getMetadata().setName("pg");
        c.getMetadata().setNamespace(ns);
        c.setSpec(new PostgresClusterSpec());
        c.setStatus(new PostgresClusterStatus());
        c.getStatus().provisioning = new ProvisioningStatus();
        for (int serial = 1; serial <= 3; serial++) {
            c.getStatus().provisioning.instances.add(new ProvisioningStatus.Instance(ClusterNames.instance("pg", serial), serial, "initdb"));
        }
        c.getStatus().topology = new TopologyStatus();
        c.getStatus().topology.currentPrimary = "pg-1";
        client.resource(c).create();
        for (int serial = 1; serial <= 3; serial++) {
            pod(ns, ClusterNames.instance("pg", serial), "10.0.0." + serial);
        }
        // a pod of another cluster in the same namespace is none of this router's business
        client.resource(new PodBuilder().withNewMetadata().withName("other-1").withNamespace(ns)
                .withLabels(Map.of(Labels.CLUSTER, "other", Labels.COMPONENT, Labels.COMPONENT_INSTANCE)).endMetadata()
                .withNewSpec().addNewContainer().withName(ClusterNames.INSTANCE_CONTAINER)
                .addNewPort().withName(ClusterNames.INSTANCE_PORT_NAME).withContainerPort(5432).endPort().endContainer().endSpec()
                .withNewStatus().withPodIP("10.0.9.1").addNewCondition().withType("Ready").withStatus("True").endCondition().endStatus()
                .build()).create();
        return new KubernetesTopologySource(client, ns, "pg");
    }

    /** An instance pod as the provisioner labels it, Ready at {@code ip} as the kubelet reports it. */
    private static void pod(String ns, String name, String ip) {
        client.resource(new PodBuilder().withNewMetadata().withName(name).withNamespace(ns)
                .withLabels(Map.of(Labels.CLUSTER, "pg", Labels.COMPONENT, Labels.COMPONENT_INSTANCE, Labels.INSTANCE, name))
                .endMetadata()
                .withNewSpec().addNewContainer().withName(ClusterNames.INSTANCE_CONTAINER)
                .addNewPort().withName("metrics").withContainerPort(9187).endPort()
                .addNewPort().withName(ClusterNames.INSTANCE_PORT_NAME).withContainerPort(5432).endPort().endContainer().endSpec()
                .withNewStatus().withPodIP(ip).addNewCondition().withType("Ready").withStatus("True").endCondition().endStatus()
                .build()).create();
    }

    private static void editCluster(String ns, Consumer<PostgresCluster> edit) {
        client.resources(PostgresCluster.class).inNamespace(ns).withName("pg").edit(c -> {
            edit.accept(c);
            return c;
        });
    }

    private static void editPodStatus(String ns, String name, Consumer<io.fabric8.kubernetes.api.model.PodStatus> edit) {
        client.pods().inNamespace(ns).withName(name).edit(p -> {
            edit.accept(p.getStatus());
            return p;
        });
    }

    private static void setReady(String ns, String name, boolean ready) {
        editPodStatus(ns, name, s -> s.getConditions().forEach(c -> c.setStatus(ready ? "True" : "False")));
    }

    @Test
    void primaryAndStandbysAreThePodIpsAndTheirPostgresPorts() {
        try (KubernetesTopologySource source = cluster("initial")) {
            Topology t = source.current();
            assertEquals(at("10.0.0.1"), t.primary());
            assertEquals(List.of(at("10.0.0.2"), at("10.0.0.3")), t.standbys());
        }
    }

    @Test
    void aNewPrimaryInTheStatusReachesCurrentWithinASecondAndTheFencedOneGetsNoReads() {
        try (KubernetesTopologySource source = cluster("failover")) {
            assertEquals(at("10.0.0.1"), source.current().primary());
            editCluster("failover", c -> {
                c.getStatus().topology.currentPrimary = "pg-2";
                c.getStatus().topology.fenced.add("pg-1");
            });
            long recorded = System.nanoTime();
            await().atMost(FOLLOWS).pollInterval(Duration.ofMillis(5)).until(() -> source.current().primary().equals(at("10.0.0.2")));
            System.out.printf("new primary in current() %d ms after the status write returned%n", (System.nanoTime() - recorded) / 1_000_000);
            assertEquals(List.of(at("10.0.0.3")), source.current().standbys());
        }
    }

    @Test
    void aStandbyNotReadyOrWithoutAnIpLeavesTheStandbysAndComesBack() {
        try (KubernetesTopologySource source = cluster("health")) {
            setReady("health", "pg-2", false);
            await().atMost(SETTLES).until(() -> source.current().standbys().equals(List.of(at("10.0.0.3"))));
            setReady("health", "pg-2", true);
            await().atMost(SETTLES).until(() -> source.current().standbys().equals(List.of(at("10.0.0.2"), at("10.0.0.3"))));

            // recreated pod: no IP until it is scheduled, then a new one
            editPodStatus("health", "pg-3", s -> s.setPodIP(null));
            await().atMost(SETTLES).until(() -> source.current().standbys().equals(List.of(at("10.0.0.2"))));
            editPodStatus("health", "pg-3", s -> s.setPodIP("10.0.0.13"));
            await().atMost(SETTLES).until(() -> source.current().standbys().equals(List.of(at("10.0.0.2"), at("10.0.0.13"))));

            // a primary not Ready stays the primary: only the monitor moves it. Pod events arrive in order, so
            // once pg-2's later change is seen, pg-1's has been too
            setReady("health", "pg-1", false);
            setReady("health", "pg-2", false);
            await().atMost(SETTLES).until(() -> source.current().standbys().equals(List.of(at("10.0.0.13"))));
            assertEquals(at("10.0.0.1"), source.current().primary());
        }
    }

    @Test
    void aRouterSpecChangeReachesRouterSpec() {
        try (KubernetesTopologySource source = cluster("spec")) {
            assertEquals(RouterSpec.ReadPolicy.STANDBY, source.routerSpec().orElseThrow().readPolicy);
            assertTrue(source.routerSpec().orElseThrow().readYourWrites);
            editCluster("spec", c -> {
                c.getSpec().router.readPolicy = RouterSpec.ReadPolicy.ANY;
                c.getSpec().router.readYourWrites = false;
            });
            await().atMost(SETTLES).until(() -> source.routerSpec().orElseThrow().readPolicy == RouterSpec.ReadPolicy.ANY);
            assertFalse(source.routerSpec().orElseThrow().readYourWrites);
        }
    }

    @Test
    void noClusterYetMeansNoPrimaryAndItIsFollowedOnceItExists() {
        try (KubernetesTopologySource source = new KubernetesTopologySource(client, "later", "pg")) {
            assertEquals(ClusterTopology.NO_PRIMARY, source.current().primary());
            assertTrue(source.routerSpec().isEmpty());
            cluster("later").close();
            await().atMost(SETTLES).until(() -> source.current().primary().equals(at("10.0.0.1")));
        }
    }
}
