package io.pgha.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import io.pgha.api.MetricLabels;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.parallel.Isolated;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Debian's Prometheus scraping a real local cluster's four services through the configuration
 * {@code pgha prometheus} prints, with pgha's rules (a copy whose {@code for:} are 0 s): no
 * service exports a label Prometheus reserves for targets, every dashboard panel's query and every
 * rule evaluates without error and every panel has data, and PghaPrimaryDown and PghaFailover fire
 * around a SIGKILL of the primary.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Isolated
class PrometheusE2ETest {
    private static final List<String> SERVICES = List.of("provisioner", "monitor", "router", "backup");
    /**
     * Panel queries this cluster has no data for, and why: a completed base backup ("> 0" leaves
     * out the 0 of never; a base backup is the backup tests' subject and would cost this test
     * time), and errors the router itself sent a client (the series starts with the first one,
     * and the division by zero below is PostgreSQL's error, relayed).
     */
    private static final List<String> NO_DATA_HERE = List.of("pgha_backup_last_success_timestamp_seconds{pgha_cluster=~\"pg\"} > 0",
            "pgha_recovery_window_start_timestamp_seconds{pgha_cluster=~\"pg\"} > 0", "pgha_router_client_errors_total{");
    private final HttpClient http = HttpClient.newHttpClient();
    private Launcher pgha;
    private Prometheus prometheus;
    private Path rulesDir;

    @BeforeAll
    void up() throws Exception {
        pgha = new Launcher();
        pgha.run("up").ok();
        rulesDir = Files.createTempDirectory("pgha-rules");
        Path rules = MonitoringFiles.immediateRules(rulesDir);
        String config = pgha.run("prometheus", "--interval", "1s", "--rules", rules.toString()).ok().stdout();
        prometheus = Prometheus.start(config);
        await().atMost(Duration.ofSeconds(60)).until(prometheus::ready);
    }

    @AfterAll
    void down() throws Exception {
        if (prometheus != null) {
            prometheus.close();
        }
        pgha.close();
        Files.deleteIfExists(rulesDir.resolve("pgha-rules-immediate.yaml"));
        Files.deleteIfExists(rulesDir);
    }

    @Test
    @Order(1)
    void statusJsonListsTheServicesAndEachInstancesTimeline() {
        JsonNode status = pgha.status();
        List<String> names = new ArrayList<>();
        for (JsonNode s : status.get("services")) {
            names.add(s.get("name").asText());
            assertEquals(pgha.portBase + 40 + SERVICES.indexOf(s.get("name").asText()), s.get("httpPort").asInt(), s.toString());
            long pid = s.get("pid").asLong();
            assertTrue(pid > 0 && ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false), s.toString());
        }
        assertEquals(SERVICES, names);
        for (JsonNode i : status.get("instances")) {
            assertEquals(1, i.get("timeline").asInt(), i.toString());
        }
        assertTrue(pgha.run("prometheus", "--interval", "soon").exitCode() != 0);
    }

    @Test
    @Order(2)
    void noServiceExportsALabelThatPrometheusPutsOnTargets() throws Exception {
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() ->
                assertEquals(4, prometheus.query("up == 1").size(), prometheus.query("up").toString()));
        for (JsonNode s : pgha.status().get("services")) {
            String body = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.get("httpPort").asInt() + "/q/metrics"))
                    .build(), HttpResponse.BodyHandlers.ofString()).body();
            Map<String, Set<String>> labels = labelNames(body);
            assertFalse(labels.isEmpty(), s + " exports nothing");
            // the provisioner exports no pgha_ metric in local mode (only the operator counts reconciles)
            String prefix = "pgha_" + (s.get("name").asText().equals("router") ? "router_"
                    : s.get("name").asText().equals("backup") ? "wal_" : "");
            assertTrue(s.get("name").asText().equals("provisioner") || labels.keySet().stream().anyMatch(m -> m.startsWith(prefix)),
                    s + " exports no " + prefix + " metric");
            labels.forEach((metric, names) -> names.forEach(l -> assertFalse(MetricLabels.RESERVED.contains(l),
                    s.get("name").asText() + " exports " + metric + " with the label " + l)));
        }
        for (String l : MetricLabels.RESERVED) {
            assertEquals(0, prometheus.query("{__name__=~\".+\",exported_" + l + "=~\".+\"}").size(), "exported_" + l);
        }
    }

    @Test
    @Order(3)
    void everyDashboardPanelAndEveryRuleEvaluatesAndThePanelsHaveData() throws Exception {
        // traffic for the router's panels, and an error PostgreSQL answers
        try (Connection c = Launcher.connect(pgha.uri("--router")); Statement s = c.createStatement()) {
            s.execute("SELECT 1");
            assertThrows(SQLException.class, () -> s.execute("SELECT 1/0"));
        }
        List<MonitoringFiles.PanelQuery> queries = MonitoringFiles.panelQueries("default", "pg");
        await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofSeconds(2)).untilAsserted(() -> {
            List<String> empty = new ArrayList<>();
            for (MonitoringFiles.PanelQuery q : queries) {
                // evaluated in any case: a query Prometheus refuses fails here
                boolean noData = prometheus.query(q.expr()).isEmpty();
                if (noData && !NO_DATA_HERE.stream().anyMatch(q.expr()::contains)) {
                    empty.add(q.toString());
                }
            }
            assertEquals(List.of(), empty, "panels without data");
        });
        System.out.println("PrometheusE2ETest: " + queries.size() + " panel queries evaluated, all with data but the "
                + NO_DATA_HERE.size() + " this cluster cannot have");
        for (MonitoringFiles.Rule r : MonitoringFiles.rules()) {
            prometheus.query(r.expr());
        }
        JsonNode groups = prometheus.api("rules").path("groups");
        List<MonitoringFiles.Rule> loaded = MonitoringFiles.rules(groups);
        assertEquals(MonitoringFiles.rules().size(), loaded.size());
        for (JsonNode g : groups) {
            for (JsonNode r : g.path("rules")) {
                assertEquals("ok", r.path("health").asText(), r.path("name") + ": " + r.path("lastError"));
            }
        }
        assertEquals(0, firing("PghaPrimaryDown").size(), "a healthy cluster has a primary");
        assertEquals(0, firing("PghaFailover").size());
    }

    @Test
    @Order(4)
    void primaryDownAndFailoverFireAroundASigkillOfThePrimary() throws Exception {
        String primary = pgha.status().get("currentPrimary").asText();
        long pid = pgha.instance(primary).get("pid").asLong();
        // a failover takes under a second, less than a scrape interval, and Prometheus might never
        // see the outage: the standbys hang first, so that none can be promoted until it has
        List<Long> standbys = new ArrayList<>();
        for (JsonNode i : pgha.status().get("instances")) {
            if (!i.get("name").asText().equals(primary)) {
                standbys.addAll(Signals.server(i.get("pid").asLong()));
            }
        }
        Signals.send("STOP", standbys); // a child may have exited since it was listed
        try {
            assertTrue(Signals.send("KILL", pid), "SIGKILL to the primary");
            await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertEquals(1, firing("PghaPrimaryDown").size(),
                    "PghaPrimaryDown did not fire"));
            assertEquals(primary, pgha.status().get("currentPrimary").asText(), "a frozen standby was promoted");
        } finally {
            Signals.send("CONT", Signals.alive(standbys));
        }
        await().atMost(Duration.ofSeconds(60)).until(() -> !primary.equals(pgha.status().get("currentPrimary").asText()));
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertEquals(1, firing("PghaFailover").size()));
        // and the new primary ends the first alert
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertEquals(0, firing("PghaPrimaryDown").size()));
        assertEquals("2", prometheus.query("max(pgha_timeline{pgha_cluster=\"pg\"})").get(0).path("value").get(1).asText());
    }

    private JsonNode firing(String alert) {
        return prometheus.query("ALERTS{alertname=\"" + alert + "\",alertstate=\"firing\"}");
    }

    /** The label names of each metric in a Prometheus text exposition. */
    static Map<String, Set<String>> labelNames(String exposition) {
        Map<String, Set<String>> all = new TreeMap<>();
        for (String line : exposition.split("\n")) {
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            int brace = line.indexOf('{');
            int space = line.indexOf(' ');
            String metric = line.substring(0, brace >= 0 && brace < space ? brace : space);
            Set<String> names = all.computeIfAbsent(metric, m -> new TreeSet<>());
            if (brace < 0 || brace > space) {
                continue;
            }
            int i = brace + 1;
            while (line.charAt(i) != '}') {
                int eq = line.indexOf('=', i);
                names.add(line.substring(i, eq).trim());
                i = eq + 2; // past ="
                while (line.charAt(i) != '"') {
                    i += line.charAt(i) == '\\' ? 2 : 1;
                }
                i++;
                if (line.charAt(i) == ',') {
                    i++;
                }
            }
        }
        return all;
    }
}
