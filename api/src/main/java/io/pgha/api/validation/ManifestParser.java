package io.pgha.api.validation;

import com.fasterxml.jackson.annotation.JsonSetter;
import com.fasterxml.jackson.annotation.Nulls;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.InvalidFormatException;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.pgha.api.v1.cluster.PostgresCluster;

import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;
import java.util.stream.Collectors;

/**
 * Reads a PostgresCluster manifest (YAML or JSON) the way the API server would: unknown fields
 * and wrong types are errors that name the field, and the result is validated.
 */
public final class ManifestParser {
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory())
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT)
            // an empty key (`replication:`) means "all defaults", as if it were absent
            .setDefaultSetterInfo(JsonSetter.Value.forValueNulls(Nulls.SKIP));
    private static final String API_VERSION = PostgresCluster.GROUP + "/" + PostgresCluster.VERSION;

    private ManifestParser() {
    }

    /** Parses and validates; throws {@link InvalidManifestException} naming each bad field. */
    public static PostgresCluster parseCluster(String manifest) {
        PostgresCluster cluster;
        try {
            JsonNode tree = YAML.readTree(manifest);
            if (tree == null || !tree.isObject()) {
                throw new InvalidManifestException(List.of(new Violation("manifest", "is empty or not a YAML mapping")));
            }
            String kind = tree.path("kind").asText(null);
            String apiVersion = tree.path("apiVersion").asText(null);
            if (!"PostgresCluster".equals(kind) || !API_VERSION.equals(apiVersion)) {
                throw new InvalidManifestException(List.of(new Violation("kind", "expected kind PostgresCluster and "
                        + "apiVersion " + API_VERSION + ", got kind " + kind + " and apiVersion " + apiVersion)));
            }
            cluster = YAML.treeToValue(tree, PostgresCluster.class);
        } catch (JsonMappingException e) {
            throw new InvalidManifestException(List.of(new Violation(path(e), describe(e))));
        } catch (JsonProcessingException e) {
            throw new InvalidManifestException(List.of(new Violation("manifest",
                    "is not valid YAML: " + e.getOriginalMessage())));
        }
        List<Violation> violations = ClusterValidator.validate(cluster);
        if (!violations.isEmpty()) {
            throw new InvalidManifestException(violations);
        }
        return cluster;
    }

    private static String path(JsonMappingException e) {
        String path = e.getPath().stream()
                .map(r -> r.getFieldName() != null ? r.getFieldName() : "[" + r.getIndex() + "]")
                .collect(Collectors.joining(".")).replace(".[", "[");
        return path.isEmpty() ? "manifest" : path;
    }

    private static String describe(JsonMappingException e) {
        if (e instanceof UnrecognizedPropertyException u) {
            return "unknown field '" + u.getPropertyName() + "'";
        }
        if (e instanceof InvalidFormatException f) {
            return "expected " + typeName(f.getTargetType()) + ", got '" + f.getValue() + "'";
        }
        if (e instanceof MismatchedInputException m && m.getTargetType() != null) {
            return "expected " + typeName(m.getTargetType());
        }
        return e.getOriginalMessage();
    }

    private static String typeName(Class<?> type) {
        if (type.isEnum()) {
            return "one of " + Stream.of(type.getEnumConstants())
                    .map(c -> c.toString().toLowerCase(Locale.ROOT)).collect(Collectors.joining(", "));
        }
        if (type == int.class || type == Integer.class || type == long.class || type == Long.class) {
            return "an integer";
        }
        if (type == boolean.class || type == Boolean.class) {
            return "true or false";
        }
        if (type == String.class) {
            return "a string";
        }
        if (java.util.Map.class.isAssignableFrom(type)) {
            return "a map";
        }
        if (java.util.Collection.class.isAssignableFrom(type)) {
            return "a list";
        }
        return "an object";
    }
}
