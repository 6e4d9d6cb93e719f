package io.pgha.monitor.service;

import io.pgha.api.v1.cluster.TopologyStatus;
import io.pgha.monitor.testing.LocalCluster;
import io.pgha.monitor.testing.LocalClusterResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import io.restassured.specification.RequestSpecification;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import java.nio.file.Files;
import java.util.concurrent.TimeUnit;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasSize;
import static org.hamcrest.Matchers.not;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The monitor as a Quarkus application over a real two-instance cluster: REST topology, Prometheus
 * metrics, health, and a switchover through the REST API.
 */
@QuarkusTest
@QuarkusTestResource(value = LocalClusterResource.class, restrictToAnnotatedClass = false)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class MonitorApplicationTest {

    @Test
    @Order(1)
    void restShowsTheLiveTopology() {
        await().atMost(30, TimeUnit.SECONDS).untilAsserted(() -> api().when().get("/clusters/default/pg").then()
                .statusCode(200)
                .body("currentPrimary", equalTo("pg-1"))
                .body("leader", equalTo(true))
                .body("monitor", equalTo("quarkus-test-monitor"))
                .body("instances", hasSize(2))
                .body("instances[0].role", equalTo("primary"))
                .body("instances[1].role", equalTo("standby"))
                .body("instances[1].healthy", equalTo(true))
                .body("instances[1].syncState", equalTo("async")));
        api().when().get("/clusters").then().statusCode(200).body("$", hasSize(1)).body("[0].name", equalTo("pg"));
        api().when().get("/clusters/default/nope").then().statusCode(404);
        given().when().get("/q/health/ready").then().statusCode(200).body("checks[0].data.leader", equalTo(true));
    }

    @Test
    @Order(2)
    void metricsArePrefixedAndLabelled() {
        await().atMost(20, TimeUnit.SECONDS).untilAsserted(() -> given().when().get("/q/metrics").then().statusCode(200)
                .body(containsString("pgha_instance_up{pgha_cluster=\"pg\",pgha_instance=\"pg-1\",pgha_namespace=\"default\"} 1.0"))
                .body(containsString("pgha_instance_primary{pgha_cluster=\"pg\",pgha_instance=\"pg-1\",pgha_namespace=\"default\"} 1.0"))
                .body(containsString("pgha_instance_primary{pgha_cluster=\"pg\",pgha_instance=\"pg-2\",pgha_namespace=\"default\"} 0.0"))
                .body(containsString("pgha_replication_lag_bytes{pgha_cluster=\"pg\",pgha_instance=\"pg-2\",pgha_namespace=\"default\"}"))
                .body(containsString("pgha_replication_lag_seconds{pgha_cluster=\"pg\",pgha_instance=\"pg-2\",pgha_namespace=\"default\"}"))
                .body(containsString("pgha_seconds_since_last_check{pgha_cluster=\"pg\",pgha_instance=\"pg-2\",pgha_namespace=\"default\"}"))
                .body(containsString("pgha_timeline{pgha_cluster=\"pg\",pgha_namespace=\"default\"} 1.0"))
                .body(containsString("pgha_monitor_leader{pgha_cluster=\"pg\",pgha_namespace=\"default\"} 1.0"))
                .body(containsString("pgha_failovers_total{kind=\"failover\",outcome=\"done\",pgha_cluster=\"pg\",pgha_namespace=\"default\"} 0.0")));
    }

    /** PostgreSQL's own figures, read by the leading monitor over its connections. */
    @Test
    @Order(2)
    void postgresHealthIsExportedWithClusterAndInstanceLabels() {
        String pg1 = "pgha_cluster=\"pg\",pgha_instance=\"pg-1\",pgha_namespace=\"default\"";
        String pg2 = "pgha_cluster=\"pg\",pgha_instance=\"pg-2\",pgha_namespace=\"default\"";
        await().atMost(20, TimeUnit.SECONDS).untilAsserted(() -> given().when().get("/q/metrics").then().statusCode(200)
                .body(containsString("pgha_pg_sessions{" + pg1 + ",state=\"active\"} 1.0"))
                .body(containsString("pgha_pg_sessions{" + pg1 + ",state=\"idle in transaction\"} 0.0"))
                .body(containsString("pgha_pg_oldest_transaction_age_seconds{" + pg1 + "} 0.0"))
                .body(containsString("pgha_pg_xid_age{" + pg2 + "}"))
                .body(containsString("pgha_pg_database_size_bytes{database=\"postgres\"," + pg1 + "}"))
                .body(containsString("pgha_pg_deadlocks_total{" + pg1 + "} 0.0"))
                .body(containsString("pgha_pg_conflicts_total{" + pg2 + "} 0.0"))
                .body(containsString("pgha_pg_checkpoints_total{kind=\"requested\"," + pg1 + "}"))
                .body(containsString("pgha_pg_postmaster_start_timestamp_seconds{" + pg2 + "}"))
                .body(containsString("pgha_pg_server_version_num{" + pg1 + "} 1500"))
                .body(containsString("pgha_pg_wal_receiver_up{" + pg2 + "} 1.0"))
                .body(not(containsString("pgha_pg_wal_receiver_up{" + pg1)))
                .body(containsString("pgha_pg_replication_slot_active{" + pg1 + ",slot=\"pgha_pg_2\"} 1.0"))
                .body(containsString("pgha_pg_replication_slot_retained_wal_bytes{" + pg1 + ",slot=\"pgha_pg_2\"}"))
                .body(containsString("pgha_pg_archiver_archived_total{" + pg1 + "} 0.0"))
                .body(containsString("pgha_pg_archiver_failed_total{" + pg1 + "} 0.0"))
                .body(containsString("pgha_pg_quorum_required{" + pg1 + "} 0.0"))
                .body(containsString("pgha_pg_quorum_confirming{" + pg1 + "} 0.0")));
    }

    @Test
    @Order(3)
    void aStandbyLeftDetachedIsPointedBackAtThePrimary() throws Exception {
        LocalCluster cluster = LocalClusterResource.cluster;
        // what a monitor that died in the middle of a failover leaves behind: a frozen standby
        try (var c = cluster.connect("pg-2"); var s = c.createStatement()) {
            s.execute("ALTER SYSTEM SET primary_conninfo = ''");
            s.execute("SELECT pg_reload_conf()");
        }
        await().atMost(20, TimeUnit.SECONDS).untilAsserted(() -> {
            assertEquals("streaming", cluster.query("pg-2", "SELECT status FROM pg_stat_wal_receiver"));
            assertEquals(Integer.toString(cluster.port("pg-1")),
                    cluster.query("pg-2", "SELECT sender_port FROM pg_stat_wal_receiver"));
        });
        String conninfo = cluster.query("pg-2", "SHOW primary_conninfo");
        org.junit.jupiter.api.Assertions.assertTrue(conninfo.contains("user=streaming_replica"), conninfo);
        org.junit.jupiter.api.Assertions.assertTrue(conninfo.contains("passfile="), conninfo);
    }

    @Test
    @Order(4)
    void switchoverThroughRest() {
        api().contentType(ContentType.JSON).body("{\"target\":\"pg-9\"}")
                .when().post("/clusters/default/pg/switchover").then().statusCode(409)
                .body("message", containsString("not an instance"));
        api().contentType(ContentType.JSON).body("{}")
                .when().post("/clusters/default/pg/switchover").then().log().ifValidationFails().statusCode(200)
                .body("done", equalTo(true)).body("from", equalTo("pg-1")).body("to", equalTo("pg-2"))
                .body("timeline", equalTo(2));
        LocalCluster cluster = LocalClusterResource.cluster;
        TopologyStatus t = cluster.topology();
        assertEquals("pg-2", t.currentPrimary);
        assertEquals("switchover", t.history.get(0).kind);
        api().when().get("/clusters/default/pg").then().statusCode(200).body("currentPrimary", equalTo("pg-2"))
                .body("fenced[0]", equalTo("pg-1"));
        await().atMost(20, TimeUnit.SECONDS).untilAsserted(() -> given().when().get("/q/metrics").then()
                .body(containsString("pgha_failovers_total{kind=\"switchover\",outcome=\"done\",pgha_cluster=\"pg\",pgha_namespace=\"default\"} 1.0"))
                .body(containsString("pgha_failover_duration_seconds_count{kind=\"switchover\",pgha_cluster=\"pg\",pgha_namespace=\"default\"} 1")));
    }

    @Test
    @Order(5)
    void withoutTheTokenOrFromAWebPageNothingIsAnswered() throws Exception {
        String token = token();
        given().when().get("/clusters").then().statusCode(401).header("WWW-Authenticate", "Bearer")
                .body("message", containsString("needs the token"));
        given().header("Authorization", "Bearer " + token + "x").when().get("/clusters/default/pg").then().statusCode(401)
                .body("message", not(containsString(token)));
        api().header("Origin", "http://localhost:8000").when().get("/clusters").then().statusCode(403);
        // what a web page can send without a CORS preflight: a text/plain POST
        given().contentType(ContentType.TEXT).body("{}").when().post("/clusters/default/pg/switchover").then().statusCode(401);
        api().header("Origin", "null").contentType(ContentType.TEXT).body("{}")
                .when().post("/clusters/default/pg/switchover").then().statusCode(403);
        assertEquals("pg-2", LocalClusterResource.cluster.topology().currentPrimary, "no switchover happened");
        given().when().get("/q/health/live").then().statusCode(200);
        given().when().get("/q/metrics").then().statusCode(200);
        api().when().get("/clusters/default/pg").then().statusCode(200).body("currentPrimary", equalTo("pg-2"));
    }

    /** A request that carries the token, read from the file the monitor keeps it in. */
    private static RequestSpecification api() {
        return given().header("Authorization", "Bearer " + token());
    }

    private static String token() {
        try {
            return Files.readString(LocalClusterResource.cluster.layout().controlToken()).strip();
        } catch (java.io.IOException e) {
            throw new AssertionError(e);
        }
    }
}
