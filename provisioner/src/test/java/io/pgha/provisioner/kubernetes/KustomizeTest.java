package io.pgha.provisioner.kubernetes;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.pgha.api.v1.cluster.PostgresCluster;
import io.pgha.api.validation.ManifestParser;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** {@code kubectl kustomize} builds the base and every overlay into what pgha needs, with least-privilege RBAC. */
class KustomizeTest {
    private static final Path KUSTOMIZE = Clusters.REPO.resolve("kustomize");
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

    @BeforeAll
    static void kubectlIsThere() {
        try {
            Process p = new ProcessBuilder("kubectl", "version", "--client").redirectErrorStream(true).start();
            if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
                fail("kubectl version --client failed: install kubectl with kustomize v5 (kubectl 1.27 or newer)");
            }
        } catch (IOException | InterruptedException e) {
            fail("kubectl not found on PATH: install kubectl with kustomize v5 (kubectl 1.27 or newer) to build kustomize/");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"base", "overlays/dev", "overlays/production", "overlays/knative"})
    void buildsWithCrdsDeploymentsAndLeastPrivilegeRbac(String dir) throws Exception {
        List<JsonNode> objects = build(dir);
        assertEquals(Set.of("postgresclusters.pgha.io", "postgresbackups.pgha.io"), names(objects, "CustomResourceDefinition"));
        assertTrue(names(objects, "Deployment").containsAll(Set.of("pgha-provisioner", "pgha-monitor")), names(objects, "Deployment").toString());
        assertEquals(Set.of("pgha-provisioner", "pgha-monitor", "pgha-backup"), names(objects, "ServiceAccount"));
        assertEquals(Set.of("pgha-provisioner", "pgha-monitor", "pgha-backup"), names(objects, "ClusterRole"));
        assertEquals(Set.of("pgha-provisioner", "pgha-monitor", "pgha-backup"), names(objects, "ClusterRoleBinding"));
        assertEquals(Set.of("pgha-system"), names(objects, "Namespace"));

        for (JsonNode o : objects) {
            for (JsonNode rule : o.path("rules")) {
                for (String field : List.of("apiGroups", "resources", "verbs", "resourceNames", "nonResourceURLs")) {
                    for (JsonNode v : rule.path(field)) {
                        assertFalse(v.asText().contains("*"), o.path("metadata").path("name").asText() + " has a wildcard in " + field);
                    }
                }
            }
        }
        for (JsonNode d : kind(objects, "Deployment")) {
            String name = d.path("metadata").path("name").asText();
            assertEquals("pgha-system", d.path("metadata").path("namespace").asText(), name);
            JsonNode pod = d.path("spec").path("template").path("spec");
            assertEquals(name, pod.path("serviceAccountName").asText(), "each service runs as its own ServiceAccount");
            JsonNode container = pod.path("containers").get(0);
            assertTrue(container.path("image").asText().startsWith("ghcr.io/pgha/"), "image set by kustomize: " + container.path("image"));
            assertEquals("kubernetes", env(container, "PGHA_PLATFORM").orElseThrow());
            assertEquals("/q/health/ready", container.path("readinessProbe").path("httpGet").path("path").asText());
        }
        JsonNode provisioner = kind(objects, "Deployment").stream()
                .filter(d -> d.path("metadata").path("name").asText().equals("pgha-provisioner")).findFirst().orElseThrow();
        assertEquals("ghcr.io/pgha/router:0.1.0", env(provisioner.path("spec").path("template").path("spec").path("containers").get(0),
                "PGHA_ROUTER_IMAGE").orElseThrow(), "the router image comes from the same images list");
        // the RBAC grants what the reconciler does: secrets are never listed; update and delete are for the certificates
        JsonNode role = kind(objects, "ClusterRole").stream().filter(r -> r.path("metadata").path("name").asText().equals("pgha-provisioner"))
                .findFirst().orElseThrow();
        assertEquals(Set.of("get", "create", "update", "delete"), verbs(role, "", "secrets"));
        assertTrue(verbs(role, "", "pods").containsAll(Set.of("list", "watch", "create", "patch", "delete")));
        assertEquals(Set.of("get", "patch"), verbs(role, "pgha.io", "postgresclusters/status"));
        // the schedule CronJobs exist in the knative overlay only, and so do the rights on them; never on Jobs
        assertEquals(dir.equals("overlays/knative") ? Set.of("get", "create", "update", "delete") : Set.of(), verbs(role, "batch", "cronjobs"));
        assertEquals(Set.of(), verbs(role, "batch", "jobs"));
        assertEquals(dir.equals("overlays/knative") ? Optional.of(BackupScheduleCronJob.MODE) : Optional.empty(),
                env(provisioner.path("spec").path("template").path("spec").path("containers").get(0), "PGHA_BACKUP_TRIGGER"));
        // Kubernetes refuses a Role granting what its creator may not do: the provisioner holds all the router's Role grants
        for (var rule : RouterDeployment.role(Clusters.example("db")).getRules()) {
            for (String resource : rule.getResources()) {
                assertTrue(verbs(role, rule.getApiGroups().get(0), resource).containsAll(rule.getVerbs()),
                        "the provisioner may not grant the router " + rule.getVerbs() + " on " + resource);
            }
        }
        // the monitor: exactly what its Kubernetes adapters do, and it never writes a cluster itself
        JsonNode monitor = kind(objects, "ClusterRole").stream().filter(r -> r.path("metadata").path("name").asText().equals("pgha-monitor"))
                .findFirst().orElseThrow();
        assertEquals(Set.of("get", "create", "update"), verbs(monitor, "coordination.k8s.io", "leases"));
        assertEquals(Set.of("get", "list", "watch", "patch", "delete"), verbs(monitor, "", "pods"));
        assertEquals(Set.of("get", "list", "watch"), verbs(monitor, "pgha.io", "postgresclusters"));
        assertEquals(Set.of("get", "patch"), verbs(monitor, "pgha.io", "postgresclusters/status"));
        assertEquals(Set.of(), verbs(monitor, "", "secrets"), "the monitor reads secrets through per-cluster Roles only");
    }

    /**
     * Restore drills run PostgreSQL inside the backup service: as the image's non-root postgres
     * user, with the state directory (PGHA_HOME, where drills extract backups) on a size-limited
     * emptyDir, since the root filesystem stays read-only.
     */
    @ParameterizedTest
    @ValueSource(strings = {"base", "overlays/dev", "overlays/production"})
    void theBackupServiceDrillsAsPostgresOnABoundedScratchVolume(String dir) throws Exception {
        JsonNode pod = deployment(build(dir), "pgha-backup").path("spec").path("template").path("spec");
        assertEquals(999, pod.path("securityContext").path("runAsUser").asInt(), "postgres:15's postgres user");
        assertTrue(pod.path("securityContext").path("runAsNonRoot").asBoolean());
        assertDrillsVolume(pod);
    }

    /** The container's PGHA_HOME is a mounted emptyDir with a sizeLimit, under a read-only root filesystem. */
    private static void assertDrillsVolume(JsonNode pod) {
        JsonNode container = pod.path("containers").get(0);
        assertTrue(container.path("securityContext").path("readOnlyRootFilesystem").asBoolean());
        String home = env(container, "PGHA_HOME").orElseThrow(() -> new AssertionError("PGHA_HOME"));
        JsonNode mount = java.util.stream.StreamSupport.stream(container.path("volumeMounts").spliterator(), false)
                .filter(m -> m.path("mountPath").asText().equals(home)).findFirst().orElseThrow(() -> new AssertionError("no volume at " + home));
        JsonNode volume = java.util.stream.StreamSupport.stream(pod.path("volumes").spliterator(), false)
                .filter(v -> v.path("name").asText().equals(mount.path("name").asText())).findFirst().orElseThrow();
        assertTrue(volume.has("emptyDir"), volume.toString());
        assertFalse(volume.path("emptyDir").path("sizeLimit").asText().isEmpty(), "a bounded scratch volume: " + volume);
        assertFalse(mount.path("readOnly").asBoolean(false));
    }

    @Test
    void productionRunsTwoMonitorsWithLimitsAndDisruptionBudgets() throws Exception {
        List<JsonNode> objects = build("overlays/production");
        assertEquals(2, deployment(objects, "pgha-monitor").path("spec").path("replicas").asInt());
        for (JsonNode d : kind(objects, "Deployment")) {
            JsonNode limits = d.path("spec").path("template").path("spec").path("containers").get(0).path("resources").path("limits");
            assertFalse(limits.path("memory").isMissingNode(), d.path("metadata").path("name") + " has a memory limit");
            assertFalse(limits.path("cpu").isMissingNode(), d.path("metadata").path("name") + " has a cpu limit");
        }
        assertTrue(names(objects, "PodDisruptionBudget").contains("pgha-monitor"));
    }

    @Test
    void devRunsOneReplicaOfEverything() throws Exception {
        for (JsonNode d : kind(build("overlays/dev"), "Deployment")) {
            assertEquals(1, d.path("spec").path("replicas").asInt(), d.path("metadata").path("name").asText());
        }
    }

    /**
     * Where the backup service is a Deployment, it serves HTTPS from the Secret the provisioner issues
     * (BackupCertificates), behind a Service that exposes that port alone, the one the instances push
     * to (plain HTTP is the pod's loopback's, for its drills); kubelet probes it over HTTPS too. On Knative the provisioner is told that plain HTTP reaches Knative's proxy.
     */
    @ParameterizedTest
    @ValueSource(strings = {"base", "overlays/dev", "overlays/production", "overlays/knative"})
    void theBackupDeploymentServesHttpsFromTheProvisionersCertificateBehindItsService(String dir) throws Exception {
        List<JsonNode> objects = build(dir);
        Optional<String> backupTls = env(deployment(objects, "pgha-provisioner").at("/spec/template/spec/containers/0"), "PGHA_BACKUP_TLS");
        if (dir.equals("overlays/knative")) {
            assertEquals(Optional.of("false"), backupTls);
            return;
        }
        assertEquals(Optional.empty(), backupTls, "HTTPS, the provisioner's default");
        JsonNode pod = deployment(objects, PghaServices.BACKUP).at("/spec/template/spec");
        JsonNode container = pod.path("containers").get(0);
        JsonNode port = container.path("ports").get(0);
        assertEquals(1, container.path("ports").size());
        assertEquals("https", port.path("name").asText());
        assertEquals(env(container, "QUARKUS_HTTP_SSL_PORT").orElseThrow(), port.path("containerPort").asText());
        for (String probe : List.of("startupProbe", "readinessProbe", "livenessProbe")) {
            assertEquals("HTTPS", container.path(probe).path("httpGet").path("scheme").asText(), probe);
            assertEquals("https", container.path(probe).path("httpGet").path("port").asText(), probe);
        }
        JsonNode volume = java.util.stream.StreamSupport.stream(pod.path("volumes").spliterator(), false)
                .filter(v -> v.path("secret").path("secretName").asText().equals(PghaServices.BACKUP_TLS_SECRET)).findFirst().orElseThrow();
        String mountPath = java.util.stream.StreamSupport.stream(container.path("volumeMounts").spliterator(), false)
                .filter(m -> m.path("name").asText().equals(volume.path("name").asText())).findFirst().orElseThrow().path("mountPath").asText();
        assertEquals(mountPath + "/" + io.pgha.api.tls.InstanceCertificates.CERT, env(container, "QUARKUS_HTTP_SSL_CERTIFICATE_FILES").orElseThrow());
        assertEquals(mountPath + "/" + io.pgha.api.tls.InstanceCertificates.KEY, env(container, "QUARKUS_HTTP_SSL_CERTIFICATE_KEY_FILES").orElseThrow());
        assertTrue(env(container, "QUARKUS_HTTP_SSL_CERTIFICATE_RELOAD_PERIOD").isPresent(), "a renewed certificate is served without a restart");
        JsonNode service = kind(objects, "Service").stream().filter(o -> o.path("metadata").path("name").asText().equals(PghaServices.BACKUP))
                .findFirst().orElseThrow();
        assertEquals(1, service.path("spec").path("ports").size());
        assertEquals(PghaServices.BACKUP_HTTPS_PORT, service.at("/spec/ports/0/port").asInt(), "the port archive_command pushes to");
        assertEquals("https", service.at("/spec/ports/0/targetPort").asText());
    }

    /** The monitoring component scrapes the HTTPS-only backup service over TLS, verified against its CA under its Service name. */
    @Test
    void monitoringScrapesTheBackupServiceOverVerifiedTls() throws Exception {
        List<JsonNode> objects = build("components/monitoring");
        JsonNode backup = objects.stream().filter(o -> o.path("metadata").path("name").asText().equals("pgha-backup")).findFirst().orElseThrow();
        assertEquals("PodMonitor", backup.path("kind").asText());
        JsonNode endpoint = backup.at("/spec/podMetricsEndpoints/0");
        assertEquals("https", endpoint.path("port").asText());
        assertEquals("https", endpoint.path("scheme").asText());
        assertEquals(PghaServices.BACKUP_TLS_SECRET, endpoint.at("/tlsConfig/ca/secret/name").asText());
        assertEquals(io.pgha.api.tls.InstanceCertificates.CA_CERT, endpoint.at("/tlsConfig/ca/secret/key").asText());
        assertTrue(new PghaServices("pgha-system", true).backupServerNames().contains(endpoint.at("/tlsConfig/serverName").asText()));
        for (JsonNode monitor : kind(objects, "PodMonitor")) {
            if (monitor != backup) {
                assertFalse(monitor.toString().contains("pgha-backup"), "scraped once, over TLS: " + monitor);
            }
        }
    }

    @Test
    void knativeRunsTheBackupAsAServiceThatScalesToZero() throws Exception {
        List<JsonNode> objects = build("overlays/knative");
        assertFalse(names(objects, "Deployment").contains("pgha-backup"));
        JsonNode ksvc = objects.stream().filter(o -> o.path("apiVersion").asText().equals("serving.knative.dev/v1")).findFirst().orElseThrow();
        assertEquals("pgha-backup", ksvc.path("metadata").path("name").asText());
        assertEquals("pgha-system", ksvc.path("metadata").path("namespace").asText());
        JsonNode template = ksvc.path("spec").path("template");
        assertEquals("0", template.path("metadata").path("annotations").path("autoscaling.knative.dev/min-scale").asText());
        assertEquals("pgha-backup", template.path("spec").path("serviceAccountName").asText());
        JsonNode container = template.path("spec").path("containers").get(0);
        assertEquals("ghcr.io/pgha/backup:0.1.0", container.path("image").asText());
        // it may scale to zero and back: no minimum, and a Secret-fed S3 key pair (no volume to carry state)
        assertTrue(template.path("metadata").path("annotations").has("autoscaling.knative.dev/scale-to-zero-pod-retention-period"));
        for (String[] env : new String[][]{{"AWS_ACCESS_KEY_ID", "access-key-id"}, {"AWS_SECRET_ACCESS_KEY", "secret-access-key"}}) {
            JsonNode ref = java.util.stream.StreamSupport.stream(container.path("env").spliterator(), false)
                    .filter(e -> e.path("name").asText().equals(env[0])).findFirst().orElseThrow(() -> new AssertionError(env[0]))
                    .path("valueFrom").path("secretKeyRef");
            assertEquals("pgha-backup-s3", ref.path("name").asText(), env[0]);
            assertEquals(env[1], ref.path("key").asText(), env[0]);
        }
        assertTrue(template.path("spec").path("volumes").findValues("persistentVolumeClaim").isEmpty(), "no volume repository");
        // the restricted Pod Security Standard
        JsonNode sc = container.path("securityContext");
        assertFalse(sc.path("allowPrivilegeEscalation").asBoolean(true));
        assertTrue(sc.path("runAsNonRoot").asBoolean());
        assertTrue(sc.path("readOnlyRootFilesystem").asBoolean());
        assertEquals("ALL", sc.path("capabilities").path("drop").get(0).asText());
        assertEquals("RuntimeDefault", sc.path("seccompProfile").path("type").asText());
        // restore drills: PostgreSQL as the image's postgres user, on a bounded scratch volume (PGHA_HOME)
        assertEquals(999, sc.path("runAsUser").asInt());
        assertDrillsVolume(template.path("spec"));
        // a schedule trigger's call answers (202 at the latest) within the request limit, which Knative's default
        // max-revision-timeout-seconds caps at 600 s
        int timeout = template.path("spec").path("timeoutSeconds").asInt();
        assertTrue(timeout > 0 && timeout <= 600, "timeoutSeconds " + timeout);
        java.time.Duration wait = java.time.Duration.parse("PT" + env(container, "PGHA_BACKUP_TRIGGER_WAIT").orElseThrow().toUpperCase());
        assertTrue(wait.toSeconds() < timeout, "the trigger's wait " + wait + " ends before the request limit " + timeout + " s");
    }

    @Test
    void exampleClustersBesideTheOverlaysAreValid() throws IOException {
        try (Stream<Path> files = Files.list(KUSTOMIZE.resolve("examples"))) {
            List<Path> manifests = files.filter(f -> f.toString().endsWith(".yaml")).toList();
            assertFalse(manifests.isEmpty());
            for (Path f : manifests) {
                PostgresCluster cluster = ManifestParser.parseCluster(Files.readString(f));
                assertTrue(cluster.getSpec().instances >= 1, f.toString());
            }
        }
    }

    /** Each directory is built once per test JVM (KustomizeTest and LockdownTest read the same output). */
    private static final java.util.Map<String, List<JsonNode>> BUILT = new java.util.concurrent.ConcurrentHashMap<>();

    static List<JsonNode> build(String dir) throws IOException, InterruptedException {
        List<JsonNode> built = BUILT.get(dir);
        if (built == null) {
            built = kustomize(dir);
            BUILT.put(dir, built);
        }
        // callers get their own copies: JsonNode trees are mutable
        return built.stream().map(n -> (JsonNode) n.deepCopy()).toList();
    }

    private static List<JsonNode> kustomize(String dir) throws IOException, InterruptedException {
        Process p = new ProcessBuilder("kubectl", "kustomize", KUSTOMIZE.resolve(dir).toString()).start();
        byte[] out = p.getInputStream().readAllBytes();
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), "kubectl kustomize " + dir + ": " + err);
        List<JsonNode> objects = new ArrayList<>();
        try (var parser = YAML.getFactory().createParser(out)) {
            YAML.readValues(parser, JsonNode.class).forEachRemaining(n -> {
                if (n != null && !n.isNull()) {
                    objects.add(n);
                }
            });
        }
        return objects;
    }

    static List<JsonNode> kind(List<JsonNode> objects, String kind) {
        return objects.stream().filter(o -> o.path("kind").asText().equals(kind)
                && !o.path("apiVersion").asText().startsWith("serving.knative.dev")).toList();
    }

    private static Set<String> names(List<JsonNode> objects, String kind) {
        return kind(objects, kind).stream().map(o -> o.path("metadata").path("name").asText()).collect(Collectors.toSet());
    }

    private static JsonNode deployment(List<JsonNode> objects, String name) {
        return kind(objects, "Deployment").stream().filter(d -> d.path("metadata").path("name").asText().equals(name)).findFirst().orElseThrow();
    }

    private static Optional<String> env(JsonNode container, String name) {
        for (JsonNode e : container.path("env")) {
            if (e.path("name").asText().equals(name)) {
                return Optional.of(e.path("value").asText());
            }
        }
        return Optional.empty();
    }

    static Set<String> verbs(JsonNode role, String group, String resource) {
        Set<String> verbs = new java.util.HashSet<>();
        for (JsonNode rule : role.path("rules")) {
            boolean g = false;
            boolean r = false;
            for (JsonNode x : rule.path("apiGroups")) {
                g |= x.asText().equals(group);
            }
            for (JsonNode x : rule.path("resources")) {
                r |= x.asText().equals(resource);
            }
            if (g && r) {
                rule.path("verbs").forEach(v -> verbs.add(v.asText()));
            }
        }
        return verbs;
    }
}
