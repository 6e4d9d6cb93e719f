package io.pgha.e2e;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.Isolated;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.stream.Stream;

import static io.pgha.e2e.ClusterE2ETest.value;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 12, point 5, on the real services: every pgha command works through the control token
 * (up, status, uri, apply, switchover, backups, down), while the same HTTP calls without it, with a wrong
 * one or from a web page are refused; the token is owner-only and shows in no log; a damaged state
 * file reaches the user as one line. Issue 10: the WAL endpoints PostgreSQL calls refuse a push or a
 * fetch without the cluster's WAL token (the control token is not it), and the cluster archives
 * through it (pgha backups below shows a segment archived).
 */
@Isolated
class ControlTokenE2ETest {
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    @Test
    void everyCommandWorksWithTheTokenAndNothingWithoutIt() throws Exception {
        try (Launcher pgha = new Launcher()) {
            Path manifest = Files.createTempFile(pgha.home, "two", ".yaml");
            Files.writeString(manifest, cluster("64MB"));
            pgha.run("up", "-f", manifest.toString()).ok();

            Path token = pgha.home.resolve("secrets/control-token");
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(token)));
            assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(token.getParent())));
            String secret = Files.readString(token).strip();

            // what any other local user or a web page could send
            String provisioner = "http://127.0.0.1:" + (pgha.portBase + 40);
            String monitor = "http://127.0.0.1:" + (pgha.portBase + 41);
            assertEquals(401, send(HttpRequest.newBuilder(URI.create(provisioner + "/local/uri?superuser=true")).GET()));
            assertEquals(401, send(HttpRequest.newBuilder(URI.create(provisioner + "/local/uri?superuser=true"))
                    .header("Authorization", "Bearer not-" + secret).GET()));
            assertEquals(403, send(HttpRequest.newBuilder(URI.create(provisioner + "/local/status"))
                    .header("Authorization", "Bearer " + secret).header("Origin", "http://localhost:8000").GET()));
            assertEquals(401, send(HttpRequest.newBuilder(URI.create(provisioner + "/local/cluster?purge=true")).DELETE()));
            assertEquals(401, send(HttpRequest.newBuilder(URI.create(provisioner + "/local/apply"))
                    .header("Content-Type", "text/plain").POST(HttpRequest.BodyPublishers.ofString(cluster("1MB")))));
            assertEquals(401, send(HttpRequest.newBuilder(URI.create(monitor + "/clusters/default/pg/switchover"))
                    .header("Content-Type", "text/plain").POST(HttpRequest.BodyPublishers.ofString("{}"))));
            // the backup service: a restore planned by a stranger would stream the whole database to them
            String backup = "http://127.0.0.1:" + (pgha.portBase + 43);
            assertEquals(401, send(HttpRequest.newBuilder(URI.create(backup + "/restores/thief"))
                    .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString("{\"sourceCluster\":\"pg\"}"))));
            assertEquals(401, send(HttpRequest.newBuilder(URI.create(backup + "/restores/thief/base/thief-1"))
                    .POST(HttpRequest.BodyPublishers.noBody())));
            assertEquals(401, send(HttpRequest.newBuilder(URI.create(backup + "/backups/pg")).POST(HttpRequest.BodyPublishers.noBody())));
            // the WAL endpoints PostgreSQL calls: only with the cluster's WAL token, which the control token is not
            Path walToken = pgha.home.resolve("wal-auth/pg.header");
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(walToken)));
            assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(walToken.getParent())));
            assertEquals(Files.getOwner(pgha.home.resolve("instances/pg-1/data")), Files.getOwner(walToken),
                    "the PostgreSQL OS user's, which runs archive_command");
            String walSecret = Files.readString(walToken).strip().substring("Authorization: Bearer ".length());
            String future = "0000000100000000000000F0";
            for (String authorization : new String[] {null, "Bearer not-" + walSecret, "Bearer " + secret}) {
                int expected = authorization == null ? 401 : 403;
                HttpRequest.Builder forge = HttpRequest.newBuilder(URI.create(backup + "/wal/pg/" + future))
                        .PUT(HttpRequest.BodyPublishers.ofString("a forged segment"));
                HttpRequest.Builder read = HttpRequest.newBuilder(URI.create(backup + "/wal/pg/000000010000000000000001")).GET();
                HttpRequest.Builder restoring = HttpRequest.newBuilder(URI.create(backup + "/restores/pg/wal/000000010000000000000001")).GET();
                for (HttpRequest.Builder r : new HttpRequest.Builder[] {forge, read, restoring}) {
                    if (authorization != null) {
                        r.header("Authorization", authorization);
                    }
                    assertEquals(expected, send(r), authorization == null ? "no token" : "a wrong token");
                }
            }
            assertEquals(404, send(HttpRequest.newBuilder(URI.create(backup + "/wal/pg/" + future))
                    .header("Authorization", "Bearer " + walSecret).GET()), "the forged segment was not stored");
            try (Connection c = pgha.superuser("pg-1"); Statement s = c.createStatement()) {
                String archiveCommand = value(s, "SHOW archive_command");
                assertTrue(archiveCommand.contains("-H @'" + walToken + "'") && !archiveCommand.contains(walSecret), archiveCommand);
            }
            String metrics = HTTP.send(HttpRequest.newBuilder(URI.create(backup + "/q/metrics")).build(),
                    HttpResponse.BodyHandlers.ofString()).body();
            assertTrue(metrics.contains("pgha_wal_unauthorized_requests_total{pgha_cluster=\"pg\",reason=\"missing\"} 3.0"), metrics);
            assertTrue(metrics.contains("pgha_wal_unauthorized_requests_total{pgha_cluster=\"pg\",reason=\"wrong\"} 6.0"), metrics);
            assertEquals(200, send(HttpRequest.newBuilder(URI.create(provisioner + "/q/health/live")).GET()));
            assertEquals(200, send(HttpRequest.newBuilder(URI.create(monitor + "/q/metrics")).GET()));
            assertEquals("pg-1", pgha.status().get("currentPrimary").asText(), "nothing was switched over");

            // the launcher's commands carry the token
            try (Connection c = Launcher.connect(pgha.uri("--rw")); Statement s = c.createStatement()) {
                assertEquals("64MB", value(s, "SHOW work_mem"));
            }
            Files.writeString(manifest, cluster("32MB"));
            pgha.run("apply", "-f", manifest.toString()).ok();
            try (Connection c = pgha.superuser("pg-1"); Statement s = c.createStatement()) {
                await().atMost(Duration.ofSeconds(30)).until(() -> "32MB".equals(value(s, "SHOW work_mem")));
            }
            Launcher.Result switched = pgha.run("switchover", "--to", "pg-2").ok();
            assertTrue(switched.stderr().contains("switchover done"), switched.stderr());
            assertEquals("pg-2", pgha.status().get("currentPrimary").asText());
            assertTrue(pgha.run("status").ok().stdout().contains("pg-2"));
            assertTrue(pgha.run("backups").ok().stdout().contains("WAL archive: last segment"), "pgha backups carries the token");

            // a damaged store file is one line from pgha status, and status works again once it is restored
            // (a status write begun before the damage may still land a newer version: then damage that one)
            Path store = pgha.home.resolve("store/postgresclusters/default");
            Path stored;
            Launcher.Result damaged;
            int attempts = 0;
            do {
                stored = damageLatestVersion(store, "pg.json");
                damaged = pgha.run("status");
            } while (damaged.exitCode() == 0 && !stored.equals(latestVersion(store, "pg.json")) && ++attempts < 5);
            byte[] good = Files.readAllBytes(stored.resolveSibling(stored.getFileName() + ".good"));
            assertTrue(damaged.exitCode() != 0, "pgha status fails");
            assertEquals(1, damaged.stderr().strip().lines().count(), damaged.stderr());
            assertTrue(damaged.stderr().contains(stored + " is empty") && damaged.stderr().contains("restore it from a copy"),
                    damaged.stderr());
            // so is every command that looks the cluster's name up first
            Launcher.Result backupsDamaged = pgha.run("backups");
            assertTrue(backupsDamaged.exitCode() != 0, "pgha backups fails");
            assertEquals(1, backupsDamaged.stderr().strip().lines().count(), backupsDamaged.stderr());
            assertTrue(backupsDamaged.stderr().contains(stored + " is empty"), backupsDamaged.stderr());
            Files.write(stored, good);
            pgha.run("status").ok();

            try (Stream<Path> logs = Files.list(pgha.home.resolve("logs"))) {
                for (Path log : logs.toList()) {
                    assertFalse(Files.readString(log).contains(secret), "the token is in " + log);
                    assertFalse(Files.readString(log).contains(walSecret), "the WAL token is in " + log);
                }
            }
            pgha.run("down").ok();
        }
    }

    private static int send(HttpRequest.Builder request) throws Exception {
        return HTTP.send(request.timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.discarding()).statusCode();
    }

    private static String cluster(String workMem) {
        return """
                apiVersion: pgha.io/v1
                kind: PostgresCluster
                metadata:
                  name: pg
                spec:
                  instances: 2
                  parameters:
                    work_mem: %s
                """.formatted(workMem);
    }

    /**
     * Empties the latest version of {@code name} and returns its file, keeping the good content
     * beside it as {@code FILE.good}. The services still write status after a switchover: a version
     * written between finding the latest and emptying it would leave the damaged one unread, so
     * this damages again until the damaged version is the latest (a writer that reads from then on
     * fails; only one that had read before may still land a version).
     */
    private static Path damageLatestVersion(Path dir, String name) throws java.io.IOException {
        while (true) {
            Path stored = latestVersion(dir, name);
            Path good = stored.resolveSibling(stored.getFileName() + ".good");
            Files.copy(stored, good, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            Files.writeString(stored, "");
            if (stored.equals(latestVersion(dir, name))) {
                return stored;
            }
        }
    }

    /** The file of {@code name}'s latest version in the store, which pgha reads ({@code name} itself is a copy for people). */
    private static Path latestVersion(Path dir, String name) throws java.io.IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(f -> f.getFileName().toString().matches(java.util.regex.Pattern.quote(name) + "\\.v[0-9]+"))
                    .max(java.util.Comparator.comparingLong(f -> Long.parseLong(f.getFileName().toString().substring(name.length() + 2))))
                    .orElseThrow(() -> new AssertionError("no version of " + name + " in " + dir));
        }
    }
}
