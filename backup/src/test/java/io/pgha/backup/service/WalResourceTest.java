package io.pgha.backup.service;

import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

@QuarkusTest
@TestProfile(WalResourceTest.TempRepository.class)
class WalResourceTest {
    /** A fresh repository root per test run. */
    public static class TempRepository implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            try {
                return Map.of("pgha.backup.repository-root", Files.createTempDirectory("pgha-wal-test").toString());
            } catch (java.io.IOException e) {
                throw new IllegalStateException(e);
            }
        }
    }

    @Test
    void metricsAreThereAndPushFetchFollowTheRules() {
        byte[] segment = "a segment".getBytes();
        // an unknown cluster's meters appear with its first push; the failure counter starts at 0
        given().body(segment).put("/wal/shop/000000010000000000000001").then().statusCode(201);
        String metrics = given().get("/q/metrics").then().statusCode(200).extract().asString();
        assertTrue(metrics.contains("pgha_wal_archive_failures_total{pgha_cluster=\"shop\"} 0.0"), metrics);
        assertTrue(metrics.contains("pgha_wal_archived_segments_total{pgha_cluster=\"shop\"} 1.0"), metrics);
        assertTrue(metrics.contains("pgha_wal_archive_last_success_timestamp_seconds{pgha_cluster=\"shop\"}"), metrics);

        given().body(segment).put("/wal/shop/000000010000000000000001").then().statusCode(200);
        // a re-push of stored content (a retried archive_command, a standby's archiver) is no new segment
        metrics = given().get("/q/metrics").then().statusCode(200).extract().asString();
        assertTrue(metrics.contains("pgha_wal_archived_segments_total{pgha_cluster=\"shop\"} 1.0"), metrics);
        given().body("other".getBytes()).put("/wal/shop/000000010000000000000001").then().statusCode(409)
                .body(containsString("000000010000000000000001"));
        byte[] fetched = given().get("/wal/shop/000000010000000000000001").then().statusCode(200).extract().asByteArray();
        assertArrayEquals(segment, fetched);

        given().body(segment).put("/wal/shop/000000010000000000000003").then().statusCode(201);
        given().get("/wal/shop/000000010000000000000004").then().statusCode(404);
        given().get("/wal/shop/000000010000000000000002").then().statusCode(500)
                .body(containsString("000000010000000000000002 is missing"));
        given().get("/wal/shop/00000002.history").then().statusCode(404);
        given().body(segment).put("/wal/shop/..%2Fx").then().statusCode(400);
        given().body(segment).put("/wal/Bad_Name/000000010000000000000001").then().statusCode(400);

        metrics = given().get("/q/metrics").then().extract().asString();
        assertTrue(metrics.contains("pgha_wal_archive_failures_total{pgha_cluster=\"shop\"} 1.0"), metrics);
    }
}
