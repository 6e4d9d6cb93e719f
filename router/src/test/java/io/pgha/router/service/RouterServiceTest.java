package io.pgha.router.service;

import io.pgha.api.v1.cluster.RouterSpec;
import io.pgha.router.proxy.TestCluster;
import io.pgha.router.topology.ServerAddress;
import io.pgha.router.topology.StaticTopologySource;
import io.pgha.router.topology.TopologySource;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.quarkus.arc.Arc;
import io.quarkus.arc.ClientProxy;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.inject.Singleton;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;

import java.lang.annotation.Annotation;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The router as the Quarkus application runs it: listeners, readiness, metrics and settings that follow spec.router. */
@QuarkusTest
@QuarkusTestResource(ClusterResource.class)
class RouterServiceTest {
    /** The router's first poll of the standby (50 ms) must have answered before it gets reads. */
    private static final Duration FIRST_POLL = Duration.ofSeconds(10);

    @Inject
    RouterService service;
    @Inject
    TopologySource topology;
    @ConfigProperty(name = "pgha.router.topology.primary")
    String primary;
    @ConfigProperty(name = "pgha.router.topology.standbys")
    String standby;

    private static Connection connect(int listener) throws SQLException {
        return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + listener + "/postgres", TestCluster.APP_USER, TestCluster.APP_PASSWORD);
    }

    private static int serverPort(Connection c) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("select inet_server_port()")) {
            rs.next();
            return rs.getInt(1);
        }
    }

    private static int serverPort(int listener) throws SQLException {
        try (Connection c = connect(listener)) {
            return serverPort(c);
        }
    }

    private int primaryPort() {
        return ServerAddress.parse(primary).port();
    }

    private int standbyPort() {
        return ServerAddress.parse(standby).port();
    }

    @Test
    void bothListenersRouteAsConfigured() throws Exception {
        assertTrue(service.port() > 0 && service.rwPort() > 0);
        await().atMost(FIRST_POLL).until(() -> serverPort(service.port()) == standbyPort());
        assertEquals(primaryPort(), serverPort(service.rwPort()));
    }

    @Test
    void theStaticSourceCreatesNoKubernetesClient() {
        // the extension's client bean exists (the Kubernetes source would ask for it), yet none was made
        assertTrue(Arc.container().select(KubernetesClient.class).isResolvable());
        for (Class<? extends Annotation> scope : List.of(Singleton.class, ApplicationScoped.class)) {
            Arc.container().getActiveContext(scope).getState().getContextualInstances().keySet()
                    .forEach(bean -> assertFalse(bean.getTypes().contains(KubernetesClient.class), "created: " + bean));
        }
    }

    @Test
    void readinessReportsTheListeners() {
        given().when().get("/q/health/ready").then().statusCode(200)
                .body("status", equalTo("UP"))
                .body("checks.find { it.name == 'pgha-router' }.data.port", equalTo(service.port()));
    }

    @Test
    void prometheusMetricsArePrefixed() throws Exception {
        await().atMost(FIRST_POLL).until(() -> serverPort(service.port()) == standbyPort());
        serverPort(service.rwPort());
        String body = given().when().get("/q/metrics").then().statusCode(200)
                .body(containsString("pgha_router_clients"))
                .body(containsString("pgha_router_server_connections{state=\"idle\"}"))
                .body(containsString("pgha_router_clients_waiting"))
                .body(containsString("pgha_router_transaction_duration_seconds_bucket"))
                .body(containsString("pgha_router_standby_lag_bytes{server=\"" + standby + "\"}"))
                .extract().asString();
        double standbyReads = value(body, "pgha_router_transactions_total{route=\"standby\"}");
        double primaryReads = value(body, "pgha_router_transactions_total{route=\"primary\"}");
        assertTrue(standbyReads >= 1, body);
        assertTrue(primaryReads >= 1, body);
        assertEquals(1.0, value(body, "pgha_router_standby_healthy{server=\"" + standby + "\"}"), body);
        assertEquals(20.0, value(body, "pgha_router_pool_size"), body);
    }

    @Test
    void aChangedSpecRouterAppliesWhileAClientStaysConnected() throws Exception {
        StaticTopologySource source = (StaticTopologySource) ClientProxy.unwrap(topology);
        try (Connection held = connect(service.port())) {
            await().atMost(FIRST_POLL).until(() -> serverPort(held) == standbyPort());
            RouterSpec spec = new RouterSpec();
            spec.readPolicy = RouterSpec.ReadPolicy.PRIMARY;
            spec.poolSize = 7;
            source.setRouterSpec(spec);
            try {
                await().atMost(Duration.ofSeconds(10)).until(() -> serverPort(held) == primaryPort());
                assertEquals(7, service.router().settings().poolSize());
                assertEquals(7.0, value(given().when().get("/q/metrics").then().extract().asString(), "pgha_router_pool_size"));
            } finally {
                // back to the configured settings, as for a cluster object without spec.router
                source.setRouterSpec(null);
            }
            await().atMost(Duration.ofSeconds(10)).until(() -> serverPort(held) == standbyPort());
            assertEquals(20, service.router().settings().poolSize());
        }
    }

    private static double value(String body, String series) {
        return body.lines().filter(l -> l.startsWith(series + " ")).mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1)))
                .findFirst().orElse(-1);
    }
}
