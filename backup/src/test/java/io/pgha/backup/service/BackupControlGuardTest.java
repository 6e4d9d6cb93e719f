package io.pgha.backup.service;

import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.pgha.backup.testing.WalTokens;
import io.pgha.local.ControlToken;
import org.junit.jupiter.api.Test;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Backups and restores need the control token: a restore streams a whole copy of its source's data
 * to whoever planned it, and loopback lets every local user reach the port. What PostgreSQL calls
 * as its own OS user stays open, and so do metrics. (Same profile as {@link RestoreOwnPrefixTest}:
 * one application for both.)
 */
@QuarkusTest
@TestProfile(RestoreOwnPrefixTest.Restoring.class)
class BackupControlGuardTest {
    private static final String PLAN = "{\"sourceCluster\": \"src\"}";

    @Test
    void aRestoreCannotBePlannedOrReadWithoutTheToken() {
        given().contentType("application/json").body(PLAN).post("/restores/thief").then().statusCode(401)
                .header("WWW-Authenticate", "Bearer").body(containsString("this API needs the token in"));
        given().header(ControlToken.HEADER, "Bearer guess").contentType("application/json").body(PLAN)
                .post("/restores/thief").then().statusCode(401).body(containsString("wrong token"));
        given().post("/restores/src/base/src-1").then().statusCode(401);
        given().delete("/restores/src").then().statusCode(401);
        given().urlEncodingEnabled(false).get("/restores/src/wal/../base.tar").then().statusCode(401);
        // a web page is refused even with the token
        given().header(ControlToken.HEADER, RestoreOwnPrefixTest.token().authorization()).header("Origin", "https://a.example")
                .post("/restores/src/base/src-1").then().statusCode(403);
    }

    @Test
    void backupsCannotBeTakenListedOrVerifiedWithoutTheToken() {
        given().post("/backups/src").then().statusCode(401);
        given().get("/backups/src").then().statusCode(401);
        given().get("/backups/src/text").then().statusCode(401);
        given().post("/backups/src/verify").then().statusCode(401);
        given().header(ControlToken.HEADER, RestoreOwnPrefixTest.token().authorization()).get("/backups/src")
                .then().statusCode(200);
    }

    @Test
    void whatPostgresqlCallsNeedsTheClustersWalTokenNotTheControlToken() {
        String walToken = WalTokens.authorization(RestoreOwnPrefixTest.home, "src");
        // restore_command: no restore is in progress, which is the resource's answer, not the guard's
        given().header(ControlToken.HEADER, walToken).get("/restores/src/wal/000000010000000000000001").then().statusCode(409)
                .body(containsString("no restore of src is in progress"));
        given().get("/restores/src/wal/000000010000000000000001").then().statusCode(401)
                .body(containsString("no bearer token"));
        given().header(ControlToken.HEADER, RestoreOwnPrefixTest.token().authorization())
                .get("/restores/src/wal/000000010000000000000001").then().statusCode(403);
        given().header(ControlToken.HEADER, walToken).get("/wal/src/000000010000000000000001").then().statusCode(200);
        given().get("/wal/src/000000010000000000000001").then().statusCode(401);
        given().get("/q/metrics").then().statusCode(200);
    }

    @Test
    void onlyRestoreCommandsExactPathIsLeftOpen() {
        assertTrue(BackupControlGuard.guarded("/backups/pg"));
        assertTrue(BackupControlGuard.guarded("//restores/pg/base.tar"));
        assertTrue(BackupControlGuard.guarded("/restores/pg"));
        assertTrue(BackupControlGuard.guarded("/restores/pg/wal/../base.tar"));
        assertTrue(BackupControlGuard.guarded("/restores/pg/wal/x;y"));
        assertFalse(BackupControlGuard.guarded("/restores/pg/wal/000000010000000000000001"));
        assertFalse(BackupControlGuard.guarded("/wal/pg/000000010000000000000001"));
        assertFalse(BackupControlGuard.guarded("/q/metrics"));
        assertFalse(BackupControlGuard.guarded("/archive/check"));
    }
}
