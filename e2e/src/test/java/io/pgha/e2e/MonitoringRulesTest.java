package io.pgha.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The alert rules and dashboards without a cluster: promtool's checks and unit tests (one test
 * per alert in deploy/prometheus/tests), the PrometheusRule equal to the plain rule file, the
 * kustomize component, and what every alert and dashboard must carry.
 * {@link PrometheusE2ETest} evaluates them against a real cluster.
 */
class MonitoringRulesTest {
    /** The alert names the issue fixes; scripts and runbooks rely on them. */
    static final Set<String> ALERTS = Set.of("PghaPrimaryDown", "PghaNoMonitorLeader", "PghaFailover", "PghaStandbyDown",
            "PghaReplicationLagHigh", "PghaQuorumDegraded", "PghaReplicationSlotRetainingWal", "PghaWalArchiveFailing",
            "PghaBackupTooOld", "PghaRestoreDrillFailed", "PghaRouterClientsWaiting", "PghaLongRunningTransaction", "PghaXidWraparoundRisk");

    @Test
    void promtoolChecksTheRules() throws Exception {
        String out = MonitoringFiles.run(MonitoringFiles.RULES.getParent(), "promtool", "check", "rules", MonitoringFiles.RULES.toString());
        assertTrue(out.contains("SUCCESS: " + MonitoringFiles.rules().size() + " rules found"), out);
    }

    @Test
    void promtoolUnitTestsPassAndCoverEveryAlert() throws Exception {
        List<String> command = new ArrayList<>(List.of("promtool", "test", "rules"));
        MonitoringFiles.RULE_TESTS.forEach(f -> command.add(f.toString()));
        String out = MonitoringFiles.run(MonitoringFiles.RULE_TESTS.get(0).getParent(), command.toArray(String[]::new));
        assertEquals(MonitoringFiles.RULE_TESTS.size(), out.split("SUCCESS", -1).length - 1, out);
        Set<String> tested = new TreeSet<>();
        for (Path tests : MonitoringFiles.RULE_TESTS) {
            for (JsonNode test : MonitoringFiles.read(MonitoringFiles.YAML, tests).path("tests")) {
                for (JsonNode t : test.path("alert_rule_test")) {
                    if (!t.path("exp_alerts").isEmpty()) {
                        tested.add(t.path("alertname").asText());
                    }
                }
            }
        }
        Set<String> alerts = MonitoringFiles.rules().stream().map(MonitoringFiles.Rule::name).collect(Collectors.toCollection(TreeSet::new));
        assertEquals(alerts, tested, "every alert has a unit test in which it fires");
    }

    @Test
    void everyAlertHasItsNameSeverityAnnotationsAndARunbookSection() throws Exception {
        JsonNode groups = MonitoringFiles.read(MonitoringFiles.YAML, MonitoringFiles.RULES).path("groups");
        Set<String> names = new TreeSet<>();
        String runbook = Files.readString(MonitoringFiles.RULES.resolveSibling("runbook.md"));
        for (JsonNode g : groups) {
            for (JsonNode r : g.path("rules")) {
                String name = r.path("alert").asText();
                names.add(name);
                assertFalse(r.path("labels").path("severity").asText().isEmpty(), name);
                for (String a : List.of("summary", "description", "runbook_url")) {
                    assertFalse(r.path("annotations").path(a).asText().isEmpty(), name + " has no " + a);
                }
                String url = r.path("annotations").path("runbook_url").asText();
                assertEquals("deploy/prometheus/runbook.md#" + name.toLowerCase(), url, name);
                assertTrue(runbook.contains("\n## " + name + "\n"), "runbook.md has no section " + name);
            }
        }
        assertTrue(names.containsAll(ALERTS), "missing: " + new TreeSet<>(ALERTS).stream().filter(a -> !names.contains(a)).toList());
    }

    @Test
    void thePrometheusRuleCarriesTheSameGroupsAndTheComponentBuilds() throws Exception {
        JsonNode plain = MonitoringFiles.read(MonitoringFiles.YAML, MonitoringFiles.RULES).path("groups");
        JsonNode resource = MonitoringFiles.read(MonitoringFiles.YAML, MonitoringFiles.COMPONENT.resolve("prometheusrule.yaml"));
        assertEquals("PrometheusRule", resource.path("kind").asText());
        assertEquals(plain, resource.path("spec").path("groups"), "kustomize/components/monitoring/prometheusrule.yaml differs from deploy/prometheus/pgha-rules.yaml");

        // an overlay with the component, as a user writes it
        Path overlay = Path.of("target", "monitoring-overlay").toAbsolutePath();
        Files.createDirectories(overlay);
        Path repo = overlay.relativize(MonitoringFiles.REPO);
        Files.writeString(overlay.resolve("kustomization.yaml"), "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
                + "resources:\n  - " + repo.resolve("kustomize/overlays/production") + "\n"
                + "components:\n  - " + repo.resolve("kustomize/components/monitoring") + "\n");
        String built = MonitoringFiles.run(overlay, "kubectl", "kustomize", overlay.toString());
        List<String> kinds = new ArrayList<>();
        for (String doc : built.split("(?m)^---$")) {
            JsonNode o = MonitoringFiles.YAML.readTree(doc);
            if (o != null && o.path("apiVersion").asText().startsWith("monitoring.coreos.com/")) {
                kinds.add(o.path("kind").asText() + "/" + o.path("metadata").path("name").asText());
                assertEquals("pgha-system", o.path("metadata").path("namespace").asText(), o.toString());
            }
        }
        // the backup service has a PodMonitor of its own: it is scraped over HTTPS, verified against its CA
        assertEquals(List.of("PodMonitor/pgha-backup", "PodMonitor/pgha-routers", "PodMonitor/pgha-services", "PrometheusRule/pgha"),
                kinds.stream().sorted().toList());
        assertTrue(built.contains("targetLabel: pgha_cluster") && built.contains("__meta_kubernetes_pod_label_pgha_io_cluster"), built);
    }

    @Test
    void everyDashboardHasNamespaceAndClusterVariablesAndQueriesPghaMetrics() {
        List<Path> dashboards = MonitoringFiles.dashboards();
        assertEquals(4, dashboards.size(), dashboards.toString());
        for (Path file : dashboards) {
            JsonNode d = MonitoringFiles.read(MonitoringFiles.JSON, file);
            Set<String> variables = new TreeSet<>();
            d.path("templating").path("list").forEach(v -> variables.add(v.path("name").asText()));
            assertTrue(variables.containsAll(Set.of("namespace", "cluster", "datasource")), file + ": " + variables);
            assertFalse(d.path("panels").isEmpty(), file.toString());
            for (JsonNode p : d.path("panels")) {
                assertFalse(p.path("targets").isEmpty(), file + ": " + p.path("title"));
                p.path("targets").forEach(t -> assertTrue(t.path("expr").asText().contains("pgha_"), file + ": " + t));
            }
        }
    }
}
