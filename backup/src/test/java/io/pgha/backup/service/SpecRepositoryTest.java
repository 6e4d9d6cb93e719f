package io.pgha.backup.service;

import io.pgha.api.v1.Condition;
import io.pgha.api.v1.ConditionTypes;
import io.pgha.api.v1.Conditions;
import io.pgha.api.v1.cluster.PostgresCluster;
import io.pgha.api.validation.ManifestParser;
import io.pgha.backup.testing.S3Proxy;
import io.pgha.local.LocalLayout;
import io.pgha.local.store.FileResourceStore;
import io.pgha.local.testing.TempDirectories;
import io.pgha.backup.testing.WalTokens;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import jakarta.ws.rs.core.HttpHeaders;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.not;
import static org.junit.jupiter.api.Assertions.*;

/**
 * spec.backup picks each cluster's repository: a directory with lz4, an S3 bucket (a real s3proxy)
 * under a nested prefix with a credentials file, and a directory that cannot exist. Meters exist
 * at 0 for each before any push, and the unwritable one is reported in one line and in its
 * ContinuousArchiving condition.
 */
@QuarkusTest
@TestProfile(SpecRepositoryTest.Clusters.class)
class SpecRepositoryTest {
    private static final String SEGMENT = "000000010000000000000001";
    static Path home;
    static S3Proxy s3;

    public static class Clusters implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            try {
                home = TempDirectories.deletedAtExit("pgha-spec-repo");
                s3 = S3Proxy.start(Files.createDirectories(home.resolve("s3")));
                s3.createBucket("archive");
                Files.writeString(home.resolve("s3.credentials"), "[default]\naws_access_key_id = " + S3Proxy.ACCESS_KEY
                        + "\naws_secret_access_key = " + S3Proxy.SECRET_KEY + "\n");
                Files.writeString(home.resolve("not-a-directory"), "x");
                FileResourceStore store = new FileResourceStore(new LocalLayout(home, LocalLayout.DEFAULT_PORT_BASE).store());
                apply(store, "fs", "      filesystem:\n        path: " + home.resolve("fs-repo") + "\n    compression: lz4\n");
                apply(store, "objects", "      s3:\n        bucket: archive\n        prefix: team/objects\n        endpoint: "
                        + s3.endpoint() + "\n        credentialsSecret: s3.credentials\n");
                apply(store, "broken", "      filesystem:\n        path: " + home.resolve("not-a-directory/repo") + "\n");
                return Map.of("pgha.backup.home", home.toString(),
                        "pgha.backup.repository-root", home.resolve("backups").toString(),
                        "pgha.backup.watch-interval", "200ms");
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        }

        private static void apply(FileResourceStore store, String name, String repository) {
            PostgresCluster c = ManifestParser.parseCluster("apiVersion: pgha.io/v1\nkind: PostgresCluster\nmetadata:\n  name: " + name
                    + "\nspec:\n  backup:\n    repository:\n" + repository);
            c.getMetadata().setNamespace(LocalLayout.NAMESPACE);
            store.apply(c);
        }
    }

    @AfterAll
    static void stopS3() {
        if (s3 != null) {
            s3.close();
        }
    }

    @Test
    void eachClusterArchivesWhereItsSpecSays() {
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            String metrics = given().get("/q/metrics").then().statusCode(200).extract().asString();
            for (String cluster : List.of("fs", "objects", "broken")) {
                assertTrue(metrics.contains("pgha_wal_archived_segments_total{pgha_cluster=\"" + cluster + "\"} 0.0"), metrics);
                assertTrue(metrics.contains("pgha_wal_archive_failures_total{pgha_cluster=\"" + cluster + "\"} 0.0"), metrics);
                assertTrue(metrics.contains("pgha_wal_archive_pending_segments{pgha_cluster=\"" + cluster + "\"} 0.0"), metrics);
            }
        });

        String problems = given().get("/archive/check").then().statusCode(503).extract().asString();
        assertEquals(1, problems.strip().lines().count(), problems);
        assertTrue(problems.contains("not-a-directory/repo") && problems.contains("cannot be written"), problems);

        byte[] segment = "a segment".repeat(100).getBytes();
        given().header(HttpHeaders.AUTHORIZATION, WalTokens.authorization(home, "fs")).body(segment).put("/wal/fs/" + SEGMENT).then().statusCode(201);
        assertTrue(Files.exists(home.resolve("fs-repo/fs/wal/00000001/" + SEGMENT + ".lz4")));
        given().header(HttpHeaders.AUTHORIZATION, WalTokens.authorization(home, "objects")).body(segment).put("/wal/objects/" + SEGMENT).then().statusCode(201);
        // the service's writability probe (written and deleted every watch interval) may be there for a moment, and a
        // listing that meets its delete can come back short (seen once in CI): the object must show in a listing soon
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertEquals(List.of("team/objects/wal/00000001/" + SEGMENT + ".zst"),
                s3.client().listObjectsV2(b -> b.bucket("archive").prefix("team/")).contents().stream().map(o -> o.key())
                        .filter(k -> !k.contains("/.pgha-write-probe")).toList()));
        given().header(HttpHeaders.AUTHORIZATION, WalTokens.authorization(home, "broken")).body(segment).put("/wal/broken/" + SEGMENT).then().statusCode(500).body(containsString(SEGMENT));
        assertArrayEquals(segment, given().header(HttpHeaders.AUTHORIZATION, WalTokens.authorization(home, "objects")).get("/wal/objects/" + SEGMENT).then().statusCode(200).extract().asByteArray());

        FileResourceStore store = new FileResourceStore(new LocalLayout(home, LocalLayout.DEFAULT_PORT_BASE).store());
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            Condition broken = condition(store, "broken");
            assertEquals(Condition.FALSE, broken.status);
            assertEquals("RepositoryUnwritable", broken.reason);
            Condition fs = condition(store, "fs");
            assertEquals(Condition.TRUE, fs.status);
            assertEquals("Archiving", fs.reason);
            assertEquals(SEGMENT, store.get(PostgresCluster.class, LocalLayout.NAMESPACE, "objects").orElseThrow()
                    .getStatus().backup.lastArchivedWal);
        });
        String metrics = given().get("/q/metrics").then().extract().asString();
        assertTrue(metrics.contains("pgha_wal_archive_failures_total{pgha_cluster=\"broken\"} 1.0"), metrics);
        assertTrue(metrics.contains("pgha_wal_archived_segments_total{pgha_cluster=\"objects\"} 1.0"), metrics);
        given().get("/archive/check").then().body(not(containsString("objects")));
    }

    private static Condition condition(FileResourceStore store, String cluster) {
        return Conditions.find(store.get(PostgresCluster.class, LocalLayout.NAMESPACE, cluster).orElseThrow().getStatus().conditions,
                ConditionTypes.CONTINUOUS_ARCHIVING).orElseThrow();
    }
}
