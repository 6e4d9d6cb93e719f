package io.pgha.monitor.kubernetes;

import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.pgha.api.ClusterNames;
import io.pgha.api.v1.cluster.PostgresCluster;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.quarkus.test.kubernetes.client.WithKubernetesTestServer;
import jakarta.inject.Inject;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.contains;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.everyItem;
import static org.hamcrest.Matchers.hasSize;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The monitor application with {@code pgha.platform=kubernetes} against the mock API server: it
 * finds the PostgresClusters of every namespace, runs a monitor for each, takes each one's Lease,
 * and lets a deleted cluster go.
 */
@QuarkusTest
@TestProfile(MonitorKubernetesApplicationTest.KubernetesPlatform.class)
@WithKubernetesTestServer(crud = true)
class MonitorKubernetesApplicationTest {
    static final java.nio.file.Path TOKEN_FILE = tokenFile();
    static final String TOKEN = "k8s-control-token";

    private static java.nio.file.Path tokenFile() {
        try {
            java.nio.file.Path f = java.nio.file.Files.createTempFile("pgha-monitor-token", "");
            java.nio.file.Files.writeString(f, TOKEN + "\n");
            f.toFile().deleteOnExit();
            return f;
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    public static class KubernetesPlatform implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("pgha.platform", "kubernetes",
                    "pgha.monitor.identity", "quarkus-k8s-monitor",
                    // as a Secret mounted into the monitor's pod would provide it
                    "pgha.control-token-file", TOKEN_FILE.toString(),
                    // the mock server logs every request at INFO
                    "quarkus.log.category.\"io.fabric8.mockwebserver\".level", "WARN");
        }
    }

    @Inject
    KubernetesClient client;

    private void cluster(String ns, String name) {
        PostgresCluster c = new PostgresCluster();
        c.getMetadata().setName(name);
        c.getMetadata().setNamespace(ns);
        client.resource(c).create();
    }

    @Test
    void monitorsEveryClusterInEveryNamespaceAndLeadsEach() throws IOException {
        MockApi.installCrd(client);
        cluster("team-a", "pg");
        cluster("team-b", "db");
        await().atMost(30, TimeUnit.SECONDS).untilAsserted(() -> given().header("Authorization", "Bearer " + TOKEN).when().get("/clusters").then().statusCode(200)
                .body("name", contains("pg", "db"))
                .body("namespace", contains("team-a", "team-b"))
                .body("leader", everyItem(equalTo(true)))
                .body("decision", everyItem(equalTo("waiting for the provisioner to create instances"))));
        for (var c : Map.of("team-a", "pg", "team-b", "db").entrySet()) {
            Lease lease = client.resources(Lease.class).inNamespace(c.getKey()).withName(ClusterNames.monitorLease(c.getValue())).get();
            assertEquals("quarkus-k8s-monitor", lease.getSpec().getHolderIdentity());
        }
        given().when().get("/q/health/ready").then().statusCode(200).body("checks[0].data.leader", equalTo(true));
        // a switchover only for callers that prove they hold the token
        given().when().post("/clusters/team-a/pg/switchover").then().statusCode(401);
        given().header("Authorization", "Bearer wrong").when().post("/clusters/team-a/pg/switchover").then().statusCode(401);

        client.resources(PostgresCluster.class).inNamespace("team-b").withName("db").delete();
        await().atMost(30, TimeUnit.SECONDS).untilAsserted(() -> given().header("Authorization", "Bearer " + TOKEN).when().get("/clusters").then().statusCode(200)
                .body("$", hasSize(1)).body("[0].name", equalTo("pg")));
    }
}
