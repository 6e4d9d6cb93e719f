package io.pgha.router.proxy;

import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.pgha.api.ClusterNames;
import io.pgha.api.Labels;
import io.pgha.api.v1.cluster.PostgresCluster;
import io.pgha.api.v1.cluster.PostgresClusterSpec;
import io.pgha.api.v1.cluster.PostgresClusterStatus;
import io.pgha.api.v1.cluster.ProvisioningStatus;
import io.pgha.api.v1.cluster.TopologyStatus;
import io.pgha.router.pool.PoolMode;
import io.pgha.router.topology.KubernetesTopologySource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Map;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A real router on the Kubernetes topology source: the mock API server holds the cluster status
 * and two instance pods whose IP and port are a real primary's and its streaming standby's.
 * Reads go to the standby, writes to the primary, read-your-writes holds while the standby lags,
 * and a new primary in the status takes the next transaction of a client that stays connected,
 * while a session-mode client's connection to the former primary is closed.
 */
@EnableKubernetesMockClient(crud = true)
class KubernetesTopologyProxyTest {
    static KubernetesClient client;
    private static final String NS = "router";
    /** How long a recorded failover may take to reach the router's next transaction. */
    private static final Duration FOLLOWS = Duration.ofSeconds(2);
    private static ReplicatedPair pair;

    @BeforeAll
    static void replicatedPair() throws Exception {
        pair = ReplicatedPair.start("CREATE TABLE items (id int)", "GRANT ALL ON items TO " + TestCluster.APP_USER);
    }

    @AfterAll
    static void stop() throws IOException {
        if (pair != null) {
            pair.close();
        }
    }

    /** Cluster pg as the provisioner and the monitor leave it: pg-1 the primary, pg-2 its standby. */
    private static void cluster() {
        PostgresCluster c = new PostgresCluster();
        c.getMetadata().setName("pg");
        c.getMetadata().setNamespace(NS);
        c.setSpec(new PostgresClusterSpec());
        c.setStatus(new PostgresClusterStatus());
        c.getStatus().provisioning = new ProvisioningStatus();
        c.getStatus().provisioning.instances.add(new ProvisioningStatus.Instance("pg-1", 1, "initdb"));
        c.getStatus().provisioning.instances.add(new ProvisioningStatus.Instance("pg-2", 2, "pg_basebackup"));
        c.getStatus().topology = new TopologyStatus();
        c.getStatus().topology.currentPrimary = "pg-1";
        client.resource(c).create();
        pod("pg-1", pair.primary.port());
        pod("pg-2", pair.standbyPort);
    }

    /** A Ready instance pod whose IP and postgres port are where the real server listens. */
    private static void pod(String name, int port) {
        client.resource(new PodBuilder().withNewMetadata().withName(name).withNamespace(NS)
                .withLabels(Map.of(Labels.CLUSTER, "pg", Labels.COMPONENT, Labels.COMPONENT_INSTANCE, Labels.INSTANCE, name))
                .endMetadata()
                .withNewSpec().addNewContainer().withName(ClusterNames.INSTANCE_CONTAINER)
                .addNewPort().withName(ClusterNames.INSTANCE_PORT_NAME).withContainerPort(port).endPort().endContainer().endSpec()
                .withNewStatus().withPodIP("127.0.0.1").addNewCondition().withType("Ready").withStatus("True").endCondition().endStatus()
                .build()).create();
    }

    private static int port(Statement s, String sql) throws SQLException {
        try (ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getInt(1);
        }
    }

    @Test
    void readsToTheStandbyWritesToThePrimaryAndARecordedFailoverMovesTheNextTransaction() throws Exception {
        cluster();
        try (KubernetesTopologySource source = new KubernetesTopologySource(client, NS, "pg");
             ReplicatedPair.Proxy router = pair.router(source, RouterSettings.defaults(), Duration.ofMillis(10));
             ReplicatedPair.Proxy sessionRouter = pair.router(source, RouterSettings.defaults().withPoolMode(PoolMode.SESSION), Duration.ofMillis(10));
             Connection c = router.connect(); Statement s = c.createStatement();
             Connection held = sessionRouter.connect(); Statement h = held.createStatement()) {
            // the standby gets reads once the router's first poll of it answered
            await().atMost(Duration.ofSeconds(30)).until(() -> port(s, "SELECT inet_server_port()") == pair.standbyPort);
            assertEquals(pair.primary.port(), port(s, "INSERT INTO items VALUES (0) RETURNING inet_server_port()"));

            // read-your-writes needs the server it polled to be the one it reads from: a pod address, not a service
            pair.applyDelay("300ms");
            for (int i = 1; i <= 20; i++) {
                s.executeUpdate("INSERT INTO items VALUES (" + i + ")");
                try (ResultSet rs = s.executeQuery("SELECT count(*) FROM items WHERE id = " + i)) {
                    rs.next();
                    assertEquals(1, rs.getInt(1), "row " + i + " read back right after its commit");
                }
            }
            pair.applyDelay("0");
            // a session-mode client holds its server connection to the primary for as long as it stays
            assertEquals(pair.primary.port(), port(h, "INSERT INTO items VALUES (-1) RETURNING inet_server_port()"));

            // the monitor's failover: promote pg-2, then record it and fence pg-1
            assertEquals("true", pair.standbyScalar("SELECT pg_promote()::text"));
            client.resources(PostgresCluster.class).inNamespace(NS).withName("pg").edit(x -> {
                x.getStatus().topology.currentPrimary = "pg-2";
                x.getStatus().topology.fenced.add("pg-1");
                return x;
            });
            await().atMost(FOLLOWS).until(() -> port(s, "INSERT INTO items VALUES (100) RETURNING inet_server_port()") == pair.standbyPort);
            assertEquals(pair.standbyPort, port(s, "SELECT inet_server_port()"), "no standby left: reads go to the new primary");

            // pg-1 still runs as a primary (fenced on paper only): the session-mode client loses its connection to it
            // instead of writing there, and a new session goes to the new primary
            await().atMost(FOLLOWS).until(() -> {
                try {
                    port(h, "INSERT INTO items VALUES (-2) RETURNING inet_server_port()");
                    return false;
                } catch (SQLException e) {
                    return true;
                }
            });
            try (Connection again = sessionRouter.connect(); Statement a = again.createStatement()) {
                assertEquals(pair.standbyPort, port(a, "INSERT INTO items VALUES (-3) RETURNING inet_server_port()"));
            }
        }
    }
}
