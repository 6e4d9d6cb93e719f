package io.pgha.provisioner.local;

import io.pgha.api.v1.cluster.PostgresCluster;
import io.pgha.local.LocalLayout;
import io.pgha.local.store.FileResourceStore;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.restassured.http.ContentType;
import io.restassured.specification.RequestSpecification;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.not;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The local control API as the provisioner serves it: nothing under /local answers without the
 * control token, with a wrong one, or to a web page; health and metrics stay open.
 */
@QuarkusTest
@TestProfile(LocalControlGuardTest.StateDirectory.class)
class LocalControlGuardTest {
    private static final String MANIFEST = """
            apiVersion: pgha.io/v1
            kind: PostgresCluster
            metadata:
              name: shop
            spec:
              instances: 1
            """;

    /** A fresh state directory of its own. */
    public static class StateDirectory implements QuarkusTestProfile {
        static final Path HOME = home();

        private static Path home() {
            try {
                Path home = Files.createTempDirectory("pgha-guard");
                // the application runs until the JVM ends, so its state directory goes with it
                Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                    try (var files = Files.walk(home)) {
                        files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
                    } catch (IOException e) {
                        // a temporary directory: nothing is lost
                    }
                }));
                return home;
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        }

        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("pgha.home", HOME.toString());
        }
    }

    private static LocalLayout layout() {
        return new LocalLayout(StateDirectory.HOME, LocalLayout.DEFAULT_PORT_BASE);
    }

    private static String token() throws IOException {
        return Files.readString(layout().controlToken()).strip();
    }

    private static RequestSpecification withToken() throws IOException {
        return given().header("Authorization", "Bearer " + token());
    }

    @Test
    void theTokenIsOwnerOnly() throws IOException {
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(layout().controlToken())));
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(layout().secretsDir())));
    }

    @Test
    void noCallWithoutTheRightTokenOrFromAWebPage() throws IOException {
        String token = token();
        for (String path : new String[] {"/local/status", "/local/status/text", "/local/progress", "/local/cluster", "/local/uri?superuser=true"}) {
            given().when().get(path).then().statusCode(401).header("WWW-Authenticate", "Bearer")
                    .body("error", containsString(layout().controlToken().toString()));
            given().header("Authorization", "Bearer wrong").when().get(path).then().statusCode(401)
                    .body(not(containsString(token)));
            withToken().header("Origin", "http://localhost:3000").when().get(path).then().statusCode(403);
        }
        // a web page may POST text/plain without asking first: the token stops it, and Origin even with one
        given().contentType(ContentType.TEXT).body(MANIFEST).when().post("/local/apply").then().statusCode(401);
        withToken().header("Origin", "null").contentType(ContentType.TEXT).body(MANIFEST).when().post("/local/apply")
                .then().statusCode(403);
        given().when().post("/local/stop").then().statusCode(401);
        given().when().delete("/local/cluster?purge=true").then().statusCode(401);
        given().when().get("//local/uri?superuser=true").then().statusCode(401);
        assertTrue(new FileResourceStore(layout().store()).list(PostgresCluster.class, LocalLayout.NAMESPACE).isEmpty(),
                "nothing was stored");

        withToken().when().get("/local/status").then().statusCode(404).body("error", containsString("no cluster"));
        withToken().when().get("/local/cluster").then().statusCode(404).body("error", containsString("no cluster"));
        given().when().get("/q/health/live").then().statusCode(200);
        given().when().get("/q/metrics").then().statusCode(200);
    }

    @Test
    void aDamagedStoreFileIsAnsweredWithItsOneLine() throws IOException {
        Path file = layout().store().resolve("postgresclusters/default/shop.json");
        Files.createDirectories(file.getParent());
        Files.writeString(file, "{\"metadata\": ");
        try {
            withToken().when().get("/local/status").then().statusCode(500)
                    .body("error", containsString(file + " is damaged"))
                    .body("error", containsString("restore it from a copy"))
                    .body("error", not(containsString("\n")));
        } finally {
            Files.delete(file);
        }
    }
}
