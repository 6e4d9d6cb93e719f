package io.pgha.router.service;

import io.pgha.router.proxy.TestCluster;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The router as the Quarkus application runs it: listeners, readiness and metrics. */
@QuarkusTest
@QuarkusTestResource(ClusterResource.class)
class RouterServiceTest {
    @Inject
    RouterService service;

    private int serverPort(int listener) throws Exception {
        try (Connection c = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + listener + "/postgres",
                TestCluster.APP_USER, TestCluster.APP_PASSWORD);
             Statement s = c.createStatement(); ResultSet rs = s.executeQuery("select inet_server_port()")) {
            rs.next();
            return rs.getInt(1);
        }
    }

    @Test
    void bothListenersRouteAsConfigured() throws Exception {
        TestCluster cluster = TestCluster.get();
        assertTrue(service.port() > 0 && service.rwPort() > 0);
        assertEquals(cluster.standby.port(), serverPort(service.port()));
        assertEquals(cluster.primary.port(), serverPort(service.rwPort()));
    }

    @Test
    void readinessReportsTheListeners() {
        given().when().get("/q/health/ready").then().statusCode(200)
                .body("status", equalTo("UP"))
                .body("checks.find { it.name == 'pgha-router' }.data.port", equalTo(service.port()));
    }

    @Test
    void prometheusMetricsArePrefixed() throws Exception {
        serverPort(service.port());
        serverPort(service.rwPort());
        String body = given().when().get("/q/metrics").then().statusCode(200)
                .body(containsString("pgha_router_clients"))
                .body(containsString("pgha_router_server_connections{state=\"idle\"}"))
                .body(containsString("pgha_router_clients_waiting"))
                .body(containsString("pgha_router_transaction_duration_seconds_bucket"))
                .extract().asString();
        double standby = value(body, "pgha_router_transactions_total{route=\"standby\"}");
        double primary = value(body, "pgha_router_transactions_total{route=\"primary\"}");
        assertTrue(standby >= 1, body);
        assertTrue(primary >= 1, body);
    }

    private static double value(String body, String series) {
        return body.lines().filter(l -> l.startsWith(series)).mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1)))
                .findFirst().orElse(-1);
    }
}
