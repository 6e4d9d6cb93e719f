package io.pgha.k8se2e;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinitionVersion;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinitionList;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.fabric8.mockwebserver.dsl.HttpMethod;
import io.fabric8.mockwebserver.http.Buffer;
import io.fabric8.mockwebserver.http.Dispatcher;
import io.fabric8.mockwebserver.http.Headers;
import io.fabric8.mockwebserver.http.MockResponse;
import io.fabric8.mockwebserver.http.RecordedRequest;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * API discovery as a real API server serves it ({@code /api}, {@code /apis}, {@code /api/v1},
 * {@code /apis/GROUP/VERSION}), in front of the mock server's CRUD dispatcher, which answers
 * those paths with stored objects. kubectl maps a resource name to its path through discovery, so
 * without this it finds no PostgresCluster. Core v1 lists the kinds the tests read with kubectl;
 * each custom group comes from the CustomResourceDefinitions stored at the time of the request.
 */
final class Discovery extends Dispatcher {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final List<String> VERBS = List.of("create", "delete", "get", "list", "patch", "update", "watch");
    /** Core v1 resources: name, kind. */
    private static final Map<String, String> CORE = Map.of("pods", "Pod", "services", "Service", "secrets", "Secret",
            "configmaps", "ConfigMap", "serviceaccounts", "ServiceAccount", "persistentvolumeclaims", "PersistentVolumeClaim",
            "namespaces", "Namespace");

    private static final KubernetesSerialization SERIALIZATION = new KubernetesSerialization();
    private static final String CRDS = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions";

    private final Dispatcher crud;

    Discovery(Dispatcher crud) {
        this.crud = crud;
    }

    @Override
    public MockResponse dispatch(RecordedRequest request) {
        String path = request.getPath().split("\\?", 2)[0];
        if (!"GET".equals(request.getMethod())) {
            return crud.dispatch(request);
        }
        if (path.equals("/api")) {
            return json(Map.of("kind", "APIVersions", "versions", List.of("v1"), "serverAddressByClientCIDRs",
                    List.of(Map.of("clientCIDR", "0.0.0.0/0", "serverAddress", "127.0.0.1"))));
        }
        if (path.equals("/api/v1")) {
            List<Map<String, Object>> resources = new ArrayList<>();
            CORE.forEach((name, kind) -> resources.add(resource(name, name.substring(0, name.length() - 1), kind,
                    !name.equals("namespaces"), List.of())));
            resources.add(resource("pods/log", "", "Pod", true, List.of()));
            resources.add(resource("pods/status", "", "Pod", true, List.of()));
            return json(Map.of("kind", "APIResourceList", "apiVersion", "v1", "groupVersion", "v1", "resources", resources));
        }
        if (path.equals("/apis")) {
            // one entry per group and version, however many kinds the group's CRDs define
            Map<String, Set<String>> groups = new LinkedHashMap<>();
            for (CustomResourceDefinition crd : crds()) {
                crd.getSpec().getVersions().forEach(v -> groups.computeIfAbsent(crd.getSpec().getGroup(), g -> new LinkedHashSet<>()).add(v.getName()));
            }
            List<Map<String, Object>> list = new ArrayList<>();
            groups.forEach((group, versions) -> {
                List<Map<String, String>> vs = versions.stream().map(v -> Map.of("groupVersion", group + "/" + v, "version", v)).toList();
                list.add(Map.of("name", group, "versions", vs, "preferredVersion", vs.get(0)));
            });
            return json(Map.of("kind", "APIGroupList", "apiVersion", "v1", "groups", list));
        }
        String[] parts = path.split("/");
        if (parts.length == 4 && parts[1].equals("apis")) {
            List<Map<String, Object>> resources = new ArrayList<>();
            for (CustomResourceDefinition crd : crds()) {
                if (!crd.getSpec().getGroup().equals(parts[2])) {
                    continue;
                }
                for (CustomResourceDefinitionVersion v : crd.getSpec().getVersions()) {
                    if (!v.getName().equals(parts[3])) {
                        continue;
                    }
                    var names = crd.getSpec().getNames();
                    boolean namespaced = "Namespaced".equals(crd.getSpec().getScope());
                    resources.add(resource(names.getPlural(), names.getSingular(), names.getKind(), namespaced,
                            names.getShortNames() == null ? List.of() : names.getShortNames()));
                    if (v.getSubresources() != null && v.getSubresources().getStatus() != null) {
                        resources.add(resource(names.getPlural() + "/status", "", names.getKind(), namespaced, List.of()));
                    }
                }
            }
            if (!resources.isEmpty()) {
                return json(Map.of("kind", "APIResourceList", "apiVersion", "v1", "groupVersion", parts[2] + "/" + parts[3],
                        "resources", resources));
            }
        }
        return crud.dispatch(request);
    }

    /** The stored CRDs, read from the CRUD dispatcher directly (a request to the server itself would wait for this one). */
    private List<CustomResourceDefinition> crds() {
        MockResponse list = crud.dispatch(new RecordedRequest("HTTP/1.1", HttpMethod.GET, CRDS, Headers.builder().build(), new Buffer()));
        return SERIALIZATION.unmarshal(list.getBody().readUtf8(), CustomResourceDefinitionList.class).getItems();
    }

    private static Map<String, Object> resource(String name, String singular, String kind, boolean namespaced, List<String> shortNames) {
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("name", name);
        r.put("singularName", singular);
        r.put("namespaced", namespaced);
        r.put("kind", kind);
        r.put("verbs", name.contains("/") ? List.of("get", "patch", "update") : VERBS);
        if (!shortNames.isEmpty()) {
            r.put("shortNames", shortNames);
        }
        return r;
    }

    private static MockResponse json(Object body) {
        try {
            return new MockResponse().setResponseCode(200).addHeader("Content-Type", "application/json")
                    .setBody(JSON.writeValueAsString(body));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void shutdown() {
        crud.shutdown();
    }
}
