package io.pgha.backup.service;

import io.pgha.backup.testing.WalTokens;
import io.pgha.local.StateFiles;
import io.pgha.local.testing.TempDirectories;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.restassured.specification.RequestSpecification;
import jakarta.ws.rs.core.HttpHeaders;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

@QuarkusTest
@TestProfile(WalResourceTest.TempRepository.class)
class WalResourceTest {
    /**
     * A fresh repository root and state directory per test run; the PostgreSQL OS user must be able
     * to traverse the state directory to read a cluster's WAL token, as in a real one.
     */
    public static class TempRepository implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("pgha.backup.repository-root", TempDirectories.deletedAtExit("pgha-wal-test").toString(),
                    "pgha.backup.home", TempDirectories.deletedAtExit("pgha-wal-home",
                            PosixFilePermissions.asFileAttribute(StateFiles.READABLE_DIR)).toString());
        }
    }

    @ConfigProperty(name = "pgha.backup.home")
    Path home;

    /** A request carrying {@code cluster}'s WAL token, as archive_command and restore_command send it. */
    private RequestSpecification as(String cluster) {
        return given().header(HttpHeaders.AUTHORIZATION, WalTokens.authorization(home, cluster));
    }

    @Test
    void metricsAreThereAndPushFetchFollowTheRules() {
        byte[] segment = "a segment".getBytes();
        // an unknown cluster's meters appear with its first push; the failure counter starts at 0
        as("shop").body(segment).put("/wal/shop/000000010000000000000001").then().statusCode(201);
        String metrics = given().get("/q/metrics").then().statusCode(200).extract().asString();
        assertTrue(metrics.contains("pgha_wal_archive_failures_total{pgha_cluster=\"shop\"} 0.0"), metrics);
        assertTrue(metrics.contains("pgha_wal_archived_segments_total{pgha_cluster=\"shop\"} 1.0"), metrics);
        assertTrue(metrics.contains("pgha_wal_archive_last_success_timestamp_seconds{pgha_cluster=\"shop\"}"), metrics);

        as("shop").body(segment).put("/wal/shop/000000010000000000000001").then().statusCode(200);
        // a re-push of stored content (a retried archive_command, a standby's archiver) is no new segment
        metrics = given().get("/q/metrics").then().statusCode(200).extract().asString();
        assertTrue(metrics.contains("pgha_wal_archived_segments_total{pgha_cluster=\"shop\"} 1.0"), metrics);
        as("shop").body("other".getBytes()).put("/wal/shop/000000010000000000000001").then().statusCode(409)
                .body(containsString("000000010000000000000001"));
        byte[] fetched = as("shop").get("/wal/shop/000000010000000000000001").then().statusCode(200).extract().asByteArray();
        assertArrayEquals(segment, fetched);

        as("shop").body(segment).put("/wal/shop/000000010000000000000003").then().statusCode(201);
        as("shop").get("/wal/shop/000000010000000000000004").then().statusCode(404);
        as("shop").get("/wal/shop/000000010000000000000002").then().statusCode(500)
                .body(containsString("000000010000000000000002 is missing"));
        as("shop").get("/wal/shop/00000002.history").then().statusCode(404);
        as("shop").body(segment).put("/wal/shop/..%2Fx").then().statusCode(400);
        as("shop").body(segment).put("/wal/Bad_Name/000000010000000000000001").then().statusCode(400);

        metrics = given().get("/q/metrics").then().extract().asString();
        assertTrue(metrics.contains("pgha_wal_archive_failures_total{pgha_cluster=\"shop\"} 1.0"), metrics);
    }

    @Test
    void withoutTheClustersTokenNothingIsStoredOrServed() {
        String segment = "000000010000000000000001";
        byte[] forged = "a forged segment".getBytes();
        WalTokens.file(home, "till");
        // no token, another cluster's token, a made-up one: refused before the repository is touched
        given().body(forged).put("/wal/till/" + segment).then().statusCode(401)
                .header(HttpHeaders.WWW_AUTHENTICATE, "Bearer realm=\"pgha-wal\"").body(containsString("no bearer token"));
        given().header(HttpHeaders.AUTHORIZATION, WalTokens.authorization(home, "other")).body(forged)
                .put("/wal/till/" + segment).then().statusCode(403).body(containsString("wrong token"));
        given().header(HttpHeaders.AUTHORIZATION, "Bearer guess").get("/wal/till/" + segment).then().statusCode(403);
        given().get("/wal/till/" + segment).then().statusCode(401);

        byte[] real = "the real segment".getBytes();
        as("till").body(real).put("/wal/till/" + segment).then().statusCode(201);
        given().get("/wal/till/" + segment).then().statusCode(401);
        assertArrayEquals(real, as("till").get("/wal/till/" + segment).then().statusCode(200).extract().asByteArray());

        String metrics = given().get("/q/metrics").then().extract().asString();
        assertTrue(metrics.contains("pgha_wal_unauthorized_requests_total{pgha_cluster=\"till\",reason=\"missing\"} 3.0"), metrics);
        assertTrue(metrics.contains("pgha_wal_unauthorized_requests_total{pgha_cluster=\"till\",reason=\"wrong\"} 2.0"), metrics);
        assertTrue(metrics.contains("pgha_wal_archive_failures_total{pgha_cluster=\"till\"} 0.0"), "refusals are no archive failures: " + metrics);
    }
}
