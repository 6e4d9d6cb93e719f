package io.pgha.router.proxy;

import io.pgha.router.protocol.PgMessages;
import io.pgha.router.protocol.PgProtocol;
import org.junit.jupiter.api.Test;

import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The {@code pgbouncer} admin database, scraped by Debian's prometheus-pgbouncer-exporter (the real
 * program, as an operator would run it): it reports the router's pools and traffic; the console
 * wants an admin role's password, names an unknown command, and a client that breaks the protocol
 * there loses only its own connection.
 */
class PgBouncerConsoleTest {
    private static final String EXPORTER = "/usr/bin/prometheus-pgbouncer-exporter";
    private static final int QUERIES = 25;

    @Test
    void debiansExporterReportsThePoolsAndStatsOfTheRouter() throws Exception {
        try (RouterFixture fx = RouterFixture.start(RouterSettings.defaults()); Connection app = fx.connect(fx.rwPort, new Properties())) {
            for (int i = 0; i < QUERIES; i++) {
                try (Statement s = app.createStatement(); ResultSet rs = s.executeQuery("select " + i)) {
                    rs.next();
                }
            }
            String[] psql = {Tools.PSQL, "-X", "-At", "-F", "|", "-h", "127.0.0.1", "-p", Integer.toString(fx.port), "-d", "pgbouncer"};

            // credentials: a wrong password and a role that is not an admin are both turned away
            Tools.Result wrong = Tools.run("not-the-password", null, concat(psql, "-U", TestCluster.APP_USER, "-c", "SHOW POOLS"));
            assertTrue(wrong.exitCode() != 0 && wrong.output().contains("password authentication failed"), wrong.output());
            fx.cluster.createRole("pgb_not_admin", "pna-secret");
            Tools.Result denied = Tools.run("pna-secret", null, concat(psql, "-U", "pgb_not_admin", "-c", "SHOW STATS"));
            assertTrue(denied.exitCode() != 0 && denied.output().contains("may not use the admin console"), denied.output());

            String[] admin = concat(psql, "-U", TestCluster.APP_USER);
            Tools.Result unknown = Tools.run(TestCluster.APP_PASSWORD, null, concat(admin, "-c", "SHOW EVERYTHING"));
            assertTrue(unknown.exitCode() != 0 && unknown.output().contains("unsupported command \"SHOW EVERYTHING\""), unknown.output());
            Tools.Result config = Tools.run(TestCluster.APP_PASSWORD, null, concat(admin, "-c", "SHOW CONFIG"));
            assertTrue(config.output().contains("default_pool_size|20|20|yes"), config.output());
            assertTrue(config.output().contains("pool_mode|transaction|transaction|yes"), config.output());

            // a client that breaks the protocol in the console loses its connection, nobody else does
            try (RawClient hostile = new RawClient(fx.port)) {
                hostile.login(TestCluster.APP_USER, TestCluster.APP_PASSWORD, "pgbouncer");
                hostile.send(PgMessages.parse("", "SHOW POOLS", new int[0]));
                RawClient.Message last = hostile.readToEnd();
                assertNotNull(last);
                assertEquals(PgProtocol.Backend.ERROR_RESPONSE, last.type());
                assertTrue(last.text().contains("simple queries only"), last.text());
            }

            int metricsPort;
            try (ServerSocket probe = new ServerSocket(0)) {
                metricsPort = probe.getLocalPort();
            }
            ProcessBuilder pb = new ProcessBuilder(EXPORTER, "--pgbouncer-host", "127.0.0.1", "--pgbouncer-port", Integer.toString(fx.port),
                    "--pgbouncer-user", TestCluster.APP_USER, "--host", "127.0.0.1", "--port", Integer.toString(metricsPort))
                    .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD);
            pb.environment().put("PGPASSWORD", TestCluster.APP_PASSWORD);
            Process exporter = pb.start();
            try {
                HttpClient http = HttpClient.newHttpClient();
                HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + metricsPort + "/metrics"))
                        .timeout(Duration.ofSeconds(10)).build();
                AtomicReference<String> metrics = new AtomicReference<>("");
                await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200)).until(() -> {
                    if (!exporter.isAlive()) {
                        throw new AssertionError("the exporter exited with " + exporter.exitValue());
                    }
                    try {
                        HttpResponse<String> r = http.send(request, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
                        metrics.set(r.body());
                        return r.statusCode() == 200;
                    } catch (java.io.IOException e) {
                        return false;
                    }
                });
                String m = metrics.get();
                // the one application connection, idle between its queries, on its pool of database postgres
                assertEquals(1.0, value(m, "pgbouncer_active_clients{database=\"postgres\",user=\"app\"}"), m);
                assertEquals(0.0, value(m, "pgbouncer_waiting_clients{database=\"postgres\",user=\"app\"}"), m);
                assertTrue(value(m, "pgbouncer_requests_total{database=\"postgres\"}") >= QUERIES, m);
                assertTrue(value(m, "pgbouncer_received_bytes_total{database=\"postgres\"}") > QUERIES * 10, m);
                assertTrue(value(m, "pgbouncer_sent_bytes_total{database=\"postgres\"}") > QUERIES * 10, m);
                assertTrue(value(m, "pgbouncer_query_microseconds_total{database=\"postgres\"}") > 0, m);
                assertEquals(20.0, value(m, "pgbouncer_pool_size{database=\"postgres\"}"), m);
                assertEquals(0.0, value(m, "pgbouncer_reserve_pool{database=\"postgres\"}"), m);
                // the app, and the exporter's own console session
                assertTrue(value(m, "pgbouncer_used_clients") >= 2, m);
                assertTrue(value(m, "pgbouncer_free_servers") >= 1, m);

                // the counters are live: more queries show on the next scrape
                double before = value(m, "pgbouncer_requests_total{database=\"postgres\"}");
                for (int i = 0; i < QUERIES; i++) {
                    try (Statement s = app.createStatement(); ResultSet rs = s.executeQuery("select " + i)) {
                        rs.next();
                    }
                }
                String again = http.send(request, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8)).body();
                assertTrue(value(again, "pgbouncer_requests_total{database=\"postgres\"}") >= before + QUERIES, again);
            } finally {
                exporter.destroy();
                exporter.waitFor();
            }
        }
    }

    /** The value of one series in Prometheus' text format. */
    private static double value(String metrics, String series) {
        Matcher m = Pattern.compile("^" + Pattern.quote(series) + " (\\S+)$", Pattern.MULTILINE).matcher(metrics);
        if (!m.find()) {
            throw new AssertionError("no series " + series + " in:\n" + metrics);
        }
        return Double.parseDouble(m.group(1));
    }

    private static String[] concat(String[] a, String... b) {
        String[] r = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }
}
