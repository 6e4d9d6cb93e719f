package io.pgha.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.pgha.api.v1.cluster.PostgresClusterSpec;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The committed CRDs are what the model generates, and their defaults are the model's. */
class CrdTest {
    private static final Path GENERATED = Path.of("target/crds");
    private static final Path COMMITTED = Path.of("../kustomize/base/crds");
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

    @Test
    void committedCrdsMatchAFreshGeneration() throws IOException {
        List<Path> generated;
        try (Stream<Path> files = Files.list(GENERATED)) {
            generated = files.filter(p -> p.toString().endsWith(".yml")).sorted().toList();
        }
        assertEquals(2, generated.size(), "expected the PostgresCluster and PostgresBackup CRDs in " + GENERATED);
        for (Path file : generated) {
            Path committed = COMMITTED.resolve(file.getFileName());
            assertTrue(Files.exists(committed), committed + " is missing: run ./mvnw -pl api -Pcrds process-classes");
            assertEquals(Files.readString(file), Files.readString(committed),
                    committed + " drifted from the model: run ./mvnw -pl api -Pcrds process-classes and commit it");
        }
    }

    @Test
    void everySchemaDefaultEqualsTheJavaDefault() throws Exception {
        JsonNode spec = YAML.readTree(GENERATED.resolve("postgresclusters.pgha.io-v1.yml").toFile())
                .at("/spec/versions/0/schema/openAPIV3Schema/properties/spec");
        List<String> checked = new ArrayList<>();
        compareDefaults(spec, new PostgresClusterSpec(), "spec", checked);
        assertTrue(checked.contains("spec.replication.synchronous"), checked.toString());
        assertTrue(checked.contains("spec.router.poolSize"), checked.toString());
        assertFalse(checked.isEmpty());
    }

    private static void compareDefaults(JsonNode schema, Object object, String path, List<String> checked) throws Exception {
        JsonNode properties = schema.get("properties");
        if (properties == null || object == null) {
            return;
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = properties.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> property = it.next();
            Field field = object.getClass().getField(property.getKey());
            if (Modifier.isStatic(field.getModifiers())) {
                continue;
            }
            Object value = field.get(object);
            JsonNode declared = property.getValue().get("default");
            if (declared != null) {
                JsonNode javaDefault = YAML.valueToTree(value);
                assertEquals(declared.asText(), javaDefault.asText(), path + "." + property.getKey());
                checked.add(path + "." + property.getKey());
            }
            compareDefaults(property.getValue(), value, path + "." + property.getKey(), checked);
        }
    }
}
