package io.pgha.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/** The dashboards in deploy/grafana and the rules in deploy/prometheus, read as Prometheus will see them. */
final class MonitoringFiles {
    static final Path REPO = Launcher.SCRIPT.getParent().getParent().getParent();
    static final Path RULES = REPO.resolve("deploy/prometheus/pgha-rules.yaml");
    /** promtool's unit tests of the rules: those evaluated every 10 s, and every minute. */
    static final List<Path> RULE_TESTS = List.of(REPO.resolve("deploy/prometheus/tests/pgha-rules-test.yaml"),
            REPO.resolve("deploy/prometheus/tests/pgha-rules-test-minutes.yaml"));
    static final Path DASHBOARDS = REPO.resolve("deploy/grafana");
    static final Path COMPONENT = REPO.resolve("kustomize/components/monitoring");
    static final ObjectMapper JSON = new ObjectMapper();
    static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

    /** One query of a dashboard panel, with Grafana's variables replaced by values for one cluster. */
    record PanelQuery(String dashboard, String panel, String expr) {
        @Override
        public String toString() {
            return dashboard + " / " + panel + ": " + expr;
        }
    }

    record Rule(String name, String expr) {
    }

    private MonitoringFiles() {
    }

    static List<Path> dashboards() {
        try (Stream<Path> files = Files.list(DASHBOARDS)) {
            return files.filter(f -> f.toString().endsWith(".json")).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static JsonNode read(ObjectMapper mapper, Path file) {
        try {
            return mapper.readTree(file.toFile());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Every panel's every query, {@code $namespace} and {@code $cluster} set, Grafana's intervals fixed. */
    static List<PanelQuery> panelQueries(String namespace, String cluster) {
        List<PanelQuery> all = new ArrayList<>();
        for (Path file : dashboards()) {
            JsonNode d = read(JSON, file);
            for (JsonNode panel : d.path("panels")) {
                for (JsonNode target : panel.path("targets")) {
                    String expr = target.path("expr").asText()
                            .replace("$namespace", namespace).replace("$cluster", cluster)
                            .replace("$__rate_interval", "30s").replace("$__interval", "5s");
                    all.add(new PanelQuery(d.path("title").asText(), panel.path("title").asText(), expr));
                }
            }
        }
        return all;
    }

    static List<Rule> rules(JsonNode groups) {
        List<Rule> all = new ArrayList<>();
        for (JsonNode group : groups) {
            for (JsonNode rule : group.path("rules")) {
                all.add(new Rule(rule.path("alert").asText(rule.path("record").asText()), rule.path("expr").asText()));
            }
        }
        return all;
    }

    static List<Rule> rules() {
        return rules(read(YAML, RULES).path("groups"));
    }

    /** A copy of the rules with every {@code for:} at 0s, so that an alert fires at its first evaluation. */
    static Path immediateRules(Path dir) throws IOException {
        Path copy = dir.resolve("pgha-rules-immediate.yaml");
        Files.writeString(copy, Files.readString(RULES).replaceAll("(?m)^(\\s+)for: \\S+$", "$1for: 0s"));
        return copy;
    }

    /** Runs a command in the repository and returns its output; fails the test when it exits non-zero. */
    static String run(Path dir, String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        if (p.waitFor() != 0) {
            throw new AssertionError(String.join(" ", command) + " exited " + p.exitValue() + ":\n" + out);
        }
        return out;
    }
}
