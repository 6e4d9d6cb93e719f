package io.pgha.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.cel.common.types.SimpleType;
import dev.cel.compiler.CelCompiler;
import dev.cel.compiler.CelCompilerFactory;
import dev.cel.parser.CelStandardMacro;
import dev.cel.runtime.CelRuntime;
import dev.cel.runtime.CelRuntimeFactory;
import io.pgha.api.validation.InvalidManifestException;
import io.pgha.api.validation.ManifestParser;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What {@code kubectl} shows and what the API server refuses, read from the generated CRDs: the
 * printer columns, a description on every field {@code kubectl explain} shows, and the
 * {@code x-kubernetes-validations} rules, each evaluated by a CEL interpreter on specs it must
 * accept and refuse (and ClusterValidator, which checks the same in local mode, agrees).
 */
class CrdRulesTest {
    private static final Path GENERATED = Path.of("target/crds");
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
    private static final CelCompiler CEL = CelCompilerFactory.standardCelCompilerBuilder()
            .setStandardMacros(CelStandardMacro.STANDARD_MACROS)
            .addVar("self", SimpleType.DYN).addVar("oldSelf", SimpleType.DYN).build();
    private static final CelRuntime RUNTIME = CelRuntimeFactory.standardCelRuntimeBuilder().build();

    private static JsonNode version(String crd) throws Exception {
        return YAML.readTree(GENERATED.resolve(crd + ".pgha.io-v1.yml").toFile()).at("/spec/versions/0");
    }

    @Test
    void printerColumnsShowPhaseReadyPrimaryAndAge() throws Exception {
        assertEquals(Map.of("Phase", ".status.phase", "Ready", ".status.provisioning.ready",
                        "Primary", ".status.topology.currentPrimary", "Age", ".metadata.creationTimestamp"),
                columns(version("postgresclusters")));
        assertEquals(Map.of("Cluster", ".spec.cluster", "Phase", ".status.phase", "Size", ".status.size",
                "Age", ".metadata.creationTimestamp"), columns(version("postgresbackups")));
    }

    @Test
    void everyFieldKubectlExplainShowsHasADescription() throws Exception {
        for (String crd : List.of("postgresclusters", "postgresbackups")) {
            List<String> undescribed = new ArrayList<>();
            undescribed(version(crd).at("/schema/openAPIV3Schema"), crd, undescribed);
            assertTrue(undescribed.isEmpty(), "fields without a description: " + undescribed);
        }
    }

    @Test
    void quorumLargerThanTheStandbysIsRefusedByTheApiServer() throws Exception {
        String rule = rules(version("postgresclusters").at("/schema/openAPIV3Schema/properties/spec")).get(0);
        assertFalse(eval(rule, spec("instances: 2\nreplication: {synchronous: quorum, number: 2}")));
        assertTrue(eval(rule, spec("instances: 3\nreplication: {synchronous: quorum, number: 2}")));
        assertTrue(eval(rule, spec("instances: 1\nreplication: {synchronous: none, number: 1}")));
        assertTrue(eval(rule, spec("instances: 1")));
        refusedLocally("instances: 2\n  replication: {synchronous: quorum, number: 2}");
    }

    @Test
    void backupAndBootstrapRulesRefuseWhatTheValidatorRefuses() throws Exception {
        JsonNode spec = version("postgresclusters").at("/schema/openAPIV3Schema/properties/spec/properties");
        String repository = rules(spec.at("/backup/properties/repository")).get(0);
        assertTrue(eval(repository, spec("s3: {bucket: b}")));
        assertFalse(eval(repository, spec("s3: {bucket: b}\nfilesystem: {path: /r}")));
        assertFalse(eval(repository, spec("{}")));
        String path = rules(spec.at("/backup/properties/repository/properties/filesystem/properties/path")).get(0);
        assertTrue(eval(path, "/var/backups"));
        assertFalse(eval(path, "backups"));
        String timeout = rules(spec.at("/backup/properties/archiveTimeout")).get(0);
        assertTrue(eval(timeout, "24h"));
        assertTrue(eval(timeout, "90m"));
        assertFalse(eval(timeout, "25h"));
        assertFalse(eval(timeout, "86401s"));

        List<String> bootstrap = rules(spec.at("/bootstrap"));
        assertFalse(eval(bootstrap.get(0), spec("initdb: {database: app}\nrecovery: {sourceCluster: pg}")));
        assertTrue(eval(bootstrap.get(0), spec("recovery: {sourceCluster: pg}")));
        assertEquals("self == oldSelf", bootstrap.get(1), "bootstrap cannot change once the cluster exists");
        assertFalse(eval(bootstrap.get(1), spec("initdb: {database: app}"), spec("initdb: {database: other}")));
        List<String> target = rules(spec.at("/bootstrap/properties/recovery/properties/target"));
        assertFalse(eval(target.get(0), spec("lsn: 0/3000060\nxid: 1000\ninclusive: true")));
        assertTrue(eval(target.get(0), spec("lsn: 0/3000060\ninclusive: true")));
        assertFalse(eval(target.get(1), spec("immediate: false")));
        assertTrue(eval(target.get(1), spec("immediate: true")));
        String version = rules(spec.at("/postgres/properties/version")).get(0);
        assertFalse(eval(version, 16L, 15L), "the major version cannot change on a running cluster");

        refusedLocally("backup: {repository: {s3: {bucket: b}, filesystem: {path: /r}}}");
        refusedLocally("backup: {repository: {filesystem: {path: r}}}");
        refusedLocally("backup: {repository: {filesystem: {path: /r}}, archiveTimeout: 25h}");
        refusedLocally("bootstrap: {recovery: {sourceCluster: pg, target: {lsn: 0/1, xid: 1000}}}");
    }

    private static Map<String, String> columns(JsonNode version) {
        Map<String, String> columns = new HashMap<>();
        version.path("additionalPrinterColumns").forEach(c -> columns.put(c.path("name").asText(), c.path("jsonPath").asText()));
        return columns;
    }

    private static void undescribed(JsonNode schema, String path, List<String> out) {
        JsonNode properties = schema.path("properties");
        for (Iterator<Map.Entry<String, JsonNode>> it = properties.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> p = it.next();
            String field = path + "." + p.getKey();
            // apiVersion, kind and metadata are described by Kubernetes itself
            if (path.indexOf('.') < 0 && List.of("apiVersion", "kind", "metadata").contains(p.getKey())) {
                continue;
            }
            if (!p.getValue().hasNonNull("description")) {
                out.add(field);
            }
            undescribed(p.getValue(), field, out);
            undescribed(p.getValue().path("items"), field + "[]", out);
            undescribed(p.getValue().path("additionalProperties"), field + "{}", out);
        }
    }

    private static List<String> rules(JsonNode schema) {
        List<String> rules = new ArrayList<>();
        schema.path("x-kubernetes-validations").forEach(r -> rules.add(r.path("rule").asText()));
        assertFalse(rules.isEmpty(), "no x-kubernetes-validations at " + schema);
        return rules;
    }

    private static boolean eval(String rule, Object self) throws Exception {
        return eval(rule, self, self);
    }

    private static boolean eval(String rule, Object self, Object oldSelf) throws Exception {
        var program = RUNTIME.createProgram(CEL.compile(rule).getAst());
        Object result = program.eval(Map.of("self", self, "oldSelf", oldSelf));
        return (Boolean) result;
    }

    /** YAML as the API server hands it to CEL: maps, lists, strings, int64 and booleans. */
    private static Object spec(String yaml) throws Exception {
        return cel(YAML.readValue(yaml, Object.class));
    }

    private static Object cel(Object value) {
        if (value instanceof Map<?, ?> map) {
            Map<String, Object> out = new LinkedHashMap<>();
            map.forEach((k, v) -> out.put((String) k, cel(v)));
            return out;
        }
        if (value instanceof List<?> list) {
            return list.stream().map(CrdRulesTest::cel).toList();
        }
        if (value instanceof Integer i) {
            return i.longValue();
        }
        return value;
    }

    /** Local mode (ClusterValidator, through the manifest parser) refuses the same spec. */
    private static void refusedLocally(String spec) {
        assertThrows(InvalidManifestException.class, () -> ManifestParser.parseCluster(
                "apiVersion: pgha.io/v1\nkind: PostgresCluster\nmetadata: {name: pg}\nspec:\n  " + spec + "\n"), spec);
    }
}
