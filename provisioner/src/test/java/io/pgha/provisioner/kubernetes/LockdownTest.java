package io.pgha.provisioner.kubernetes;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPeer;
import io.fabric8.kubernetes.api.model.rbac.PolicyRule;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.pgha.api.Labels;
import io.pgha.api.v1.cluster.BackupSpec;
import io.pgha.api.v1.cluster.PostgresCluster;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What a platform team checks before it lets pgha in, over {@code kubectl kustomize} of every
 * overlay and over the objects the provisioner builds: the restricted Pod Security Standard, no
 * cluster-wide Secret reads for the monitor and the backup service, grants the provisioner may
 * make, the NetworkPolicy, and the CRDs' printer columns and CEL rules.
 */
class LockdownTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final KubernetesSerialization K8S = new KubernetesSerialization();
    private final PostgresCluster cluster = Clusters.example("db");
    private final PghaServices services = new PghaServices("pgha-system", true);

    @ParameterizedTest
    @ValueSource(strings = {"base", "overlays/dev", "overlays/production", "overlays/knative"})
    void everyShippedPodPassesTheRestrictedStandard(String dir) throws Exception {
        List<JsonNode> objects = KustomizeTest.build(dir);
        List<String> violations = new ArrayList<>();
        int pods = 0;
        for (JsonNode o : objects) {
            JsonNode template = o.path("spec").path("template").path("spec");
            if (o.path("kind").asText().equals("Deployment") || o.path("apiVersion").asText().startsWith("serving.knative.dev")) {
                violations.addAll(RestrictedPodSecurity.violations(dir + " " + o.path("metadata").path("name").asText(), template));
                pods++;
            }
        }
        assertEquals(3, pods, "the provisioner, the monitor and the backup service");
        assertTrue(violations.isEmpty(), String.join("\n", violations));
    }

    @ParameterizedTest
    @ValueSource(strings = {"base", "overlays/dev", "overlays/production", "overlays/knative"})
    void noClusterRoleBoundToTheMonitorOrTheBackupServiceReadsSecrets(String dir) throws Exception {
        List<JsonNode> objects = KustomizeTest.build(dir);
        Map<String, JsonNode> clusterRoles = new java.util.HashMap<>();
        KustomizeTest.kind(objects, "ClusterRole").forEach(r -> clusterRoles.put(r.path("metadata").path("name").asText(), r));
        int bindings = 0;
        for (JsonNode binding : KustomizeTest.kind(objects, "ClusterRoleBinding")) {
            for (JsonNode subject : binding.path("subjects")) {
                String sa = subject.path("name").asText();
                if (!Set.of(PghaServices.MONITOR, PghaServices.BACKUP).contains(sa)) {
                    continue;
                }
                bindings++;
                JsonNode role = clusterRoles.get(binding.path("roleRef").path("name").asText());
                assertTrue(KustomizeTest.verbs(role, "", "secrets").isEmpty(),
                        sa + " may read Secrets cluster-wide through " + role.path("metadata").path("name").asText());
            }
        }
        assertEquals(2, bindings);
        // the names the provisioner's per-cluster grants and NetworkPolicy use are those the manifests ship
        for (String service : List.of(PghaServices.MONITOR, PghaServices.BACKUP)) {
            assertTrue(KustomizeTest.kind(objects, "ServiceAccount").stream()
                    .anyMatch(sa -> sa.path("metadata").path("name").asText().equals(service)), service);
        }
        for (JsonNode d : KustomizeTest.kind(objects, "Deployment")) {
            assertEquals(d.path("metadata").path("name").asText(),
                    d.path("spec").path("template").path("metadata").path("labels").path(PghaServices.NAME_LABEL).asText());
        }
    }

    @Test
    void theCrdsInTheOverlaysCarryPrinterColumnsAndCelRules() throws Exception {
        List<JsonNode> objects = KustomizeTest.build("overlays/production");
        JsonNode clusters = KustomizeTest.kind(objects, "CustomResourceDefinition").stream()
                .filter(c -> c.path("metadata").path("name").asText().equals("postgresclusters.pgha.io")).findFirst().orElseThrow();
        JsonNode version = clusters.path("spec").path("versions").get(0);
        Set<String> columns = new HashSet<>();
        version.path("additionalPrinterColumns").forEach(c -> columns.add(c.path("name").asText()));
        assertEquals(Set.of("Phase", "Ready", "Primary", "Age"), columns);
        String rule = version.at("/schema/openAPIV3Schema/properties/spec/x-kubernetes-validations/0/rule").asText();
        assertTrue(rule.contains("self.replication.number < self.instances"), rule);
    }

    @Test
    void podsTheProvisionerBuildsPassTheRestrictedStandard() throws Exception {
        List<String> violations = new ArrayList<>();
        for (String role : List.of(Labels.ROLE_PRIMARY, Labels.ROLE_STANDBY)) {
            violations.addAll(RestrictedPodSecurity.violations("instance pod (" + role + ")",
                    json(InstancePod.desired(cluster, 1, role).getSpec())));
        }
        violations.addAll(RestrictedPodSecurity.violations("router Deployment",
                json(RouterDeployment.desired(cluster, "pgha/router").getSpec().getTemplate().getSpec())));
        cluster.getSpec().backup = new BackupSpec();
        cluster.getSpec().backup.verify = "0 5 * * *";
        for (BackupScheduleCronJob.Trigger trigger : BackupScheduleCronJob.Trigger.values()) {
            violations.addAll(RestrictedPodSecurity.violations("backup " + trigger + " CronJob", json(BackupScheduleCronJob.desired(cluster,
                    new PghaServices("pgha-system", true), trigger).getSpec().getJobTemplate().getSpec().getTemplate().getSpec())));
        }
        assertTrue(violations.isEmpty(), String.join("\n", violations));
    }

    @Test
    void theMonitorAndTheBackupServiceGetTheClustersSecretsByNameInItsNamespace() {
        cluster.getSpec().backup = new BackupSpec();
        cluster.getSpec().backup.repository = new BackupSpec.Repository();
        cluster.getSpec().backup.repository.s3 = new BackupSpec.S3();
        cluster.getSpec().backup.repository.s3.bucket = "b";
        cluster.getSpec().backup.repository.s3.credentialsSecret = "s3-keys";

        Role monitor = ServiceAccess.role(cluster, PghaServices.MONITOR);
        assertEquals("db", monitor.getMetadata().getNamespace());
        assertEquals("pg-pgha-monitor", monitor.getMetadata().getName());
        assertEquals(1, monitor.getRules().size());
        PolicyRule rule = monitor.getRules().get(0);
        assertEquals(List.of("secrets"), rule.getResources());
        assertEquals(List.of("get"), rule.getVerbs());
        assertEquals(List.of("pg-superuser", "pg-ca-cert"), rule.getResourceNames());
        // the backup service also reads the replication role's secret: pg_hba.conf lets only that role replicate (BASE_BACKUP)
        // and the WAL push token, which it checks every push against
        assertEquals(List.of("pg-superuser", "pg-ca-cert", "pg-replication", "pg-wal-push", "s3-keys"),
                ServiceAccess.role(cluster, PghaServices.BACKUP).getRules().get(0).getResourceNames());

        RoleBinding binding = ServiceAccess.roleBinding(cluster, PghaServices.BACKUP, services);
        assertEquals("Role", binding.getRoleRef().getKind());
        assertEquals("pg-pgha-backup", binding.getRoleRef().getName());
        assertEquals("pgha-backup", binding.getSubjects().get(0).getName());
        assertEquals("pgha-system", binding.getSubjects().get(0).getNamespace());
    }

    /**
     * The backup service's ClusterRole grants what its Kubernetes adapter calls and nothing more:
     * informers (list, watch) and reads (get) of clusters and backups, PostgresBackups created on a
     * schedule, JSON patches of both statuses, and the instance pods' addresses.
     */
    @ParameterizedTest
    @ValueSource(strings = {"base", "overlays/knative"})
    void theBackupServicesClusterRoleGrantsOnlyWhatItsKubernetesAdapterUses(String dir) throws Exception {
        JsonNode backup = KustomizeTest.kind(KustomizeTest.build(dir), "ClusterRole").stream()
                .filter(r -> r.path("metadata").path("name").asText().equals(PghaServices.BACKUP)).findFirst().orElseThrow();
        Map<String, Set<String>> granted = new java.util.TreeMap<>();
        for (JsonNode rule : backup.path("rules")) {
            for (JsonNode group : rule.path("apiGroups")) {
                for (JsonNode resource : rule.path("resources")) {
                    Set<String> verbs = granted.computeIfAbsent(group.asText() + "/" + resource.asText(), k -> new java.util.TreeSet<>());
                    rule.path("verbs").forEach(v -> verbs.add(v.asText()));
                }
            }
        }
        assertEquals(Map.of(
                "pgha.io/postgresclusters", Set.of("get", "list", "watch"),
                "pgha.io/postgresclusters/status", Set.of("patch"),
                "pgha.io/postgresbackups", Set.of("get", "list", "watch", "create", "delete"),
                "pgha.io/postgresbackups/status", Set.of("patch"),
                "/pods", Set.of("get")), granted);
    }

    @Test
    void theProvisionerHoldsEveryPermissionItGrantsPerCluster() throws Exception {
        JsonNode provisioner = KustomizeTest.kind(KustomizeTest.build("base"), "ClusterRole").stream()
                .filter(r -> r.path("metadata").path("name").asText().equals("pgha-provisioner")).findFirst().orElseThrow();
        List<Role> granted = List.of(RouterDeployment.role(cluster), InstanceAccess.role(cluster, List.of("pg-1")),
                ServiceAccess.role(cluster, PghaServices.MONITOR), ServiceAccess.role(cluster, PghaServices.BACKUP));
        for (Role role : granted) {
            for (PolicyRule rule : role.getRules()) {
                for (String resource : rule.getResources()) {
                    assertTrue(KustomizeTest.verbs(provisioner, rule.getApiGroups().get(0), resource).containsAll(rule.getVerbs()),
                            "Kubernetes refuses Role " + role.getMetadata().getName() + ": the provisioner lacks "
                                    + rule.getVerbs() + " on " + resource);
                }
            }
        }
        assertTrue(KustomizeTest.verbs(provisioner, "networking.k8s.io", "networkpolicies").containsAll(List.of("get", "create", "update")));
    }

    @Test
    void theNetworkPolicyAdmitsOnlyTheInstancesTheRouterTheMonitorAndTheBackupService() {
        NetworkPolicy policy = InstanceNetworkPolicy.desired(cluster, services);
        assertEquals("pg-instances", policy.getMetadata().getName());
        assertEquals("db", policy.getMetadata().getNamespace());
        assertEquals(Map.of(Labels.CLUSTER, "pg", Labels.COMPONENT, Labels.COMPONENT_INSTANCE),
                policy.getSpec().getPodSelector().getMatchLabels(), "every instance of this cluster, whatever its role");
        assertEquals(List.of("Ingress"), policy.getSpec().getPolicyTypes());
        assertEquals(1, policy.getSpec().getIngress().size());
        var ingress = policy.getSpec().getIngress().get(0);
        assertEquals(1, ingress.getPorts().size());
        assertEquals(InstancePod.PORT, ingress.getPorts().get(0).getPort().getIntVal());
        List<NetworkPolicyPeer> from = ingress.getFrom();
        assertEquals(4, from.size());
        assertEquals(Map.of(Labels.CLUSTER, "pg", Labels.COMPONENT, Labels.COMPONENT_INSTANCE), from.get(0).getPodSelector().getMatchLabels());
        assertEquals(null, from.get(0).getNamespaceSelector(), "the other instances: this namespace only");
        assertEquals(Map.of(Labels.CLUSTER, "pg", Labels.COMPONENT, Labels.COMPONENT_ROUTER), from.get(1).getPodSelector().getMatchLabels());
        for (int i = 2; i < 4; i++) {
            assertEquals(Map.of("kubernetes.io/metadata.name", "pgha-system"), from.get(i).getNamespaceSelector().getMatchLabels());
            assertEquals(null, from.get(i).getIpBlock());
        }
        assertEquals(Map.of(PghaServices.NAME_LABEL, "pgha-monitor"), from.get(2).getPodSelector().getMatchLabels());
        assertEquals(Map.of(PghaServices.NAME_LABEL, "pgha-backup"), from.get(3).getPodSelector().getMatchLabels());
        // the selectors match the labels the builders put on the pods they select
        assertTrue(InstancePod.desired(cluster, 2, Labels.ROLE_STANDBY).getMetadata().getLabels().entrySet()
                .containsAll(from.get(0).getPodSelector().getMatchLabels().entrySet()));
        assertTrue(RouterDeployment.desired(cluster, "pgha/router").getSpec().getTemplate().getMetadata().getLabels().entrySet()
                .containsAll(from.get(1).getPodSelector().getMatchLabels().entrySet()));
        assertFalse(RouterDeployment.desired(cluster, "pgha/router").getSpec().getTemplate().getMetadata().getLabels().entrySet()
                .containsAll(policy.getSpec().getPodSelector().getMatchLabels().entrySet()), "the router is not an instance");
    }

    /**
     * The backup service's HTTP port admits the instance pods (their WAL pushes) and Prometheus,
     * from any namespace, and nobody else; on Knative the policy is gone, since Knative's gateway
     * and activator carry the requests there.
     */
    @ParameterizedTest
    @ValueSource(strings = {"base", "overlays/dev", "overlays/production", "overlays/knative"})
    void onlyInstancesAndPrometheusReachTheBackupService(String dir) throws Exception {
        List<JsonNode> objects = KustomizeTest.build(dir);
        List<JsonNode> policies = KustomizeTest.kind(objects, "NetworkPolicy");
        if (dir.equals("overlays/knative")) {
            assertEquals(List.of(), policies);
            return;
        }
        assertEquals(1, policies.size());
        NetworkPolicy policy = K8S.unmarshal(policies.get(0).toString(), NetworkPolicy.class);
        assertEquals("pgha-system", policy.getMetadata().getNamespace());
        JsonNode backup = KustomizeTest.kind(objects, "Deployment").stream()
                .filter(d -> d.path("metadata").path("name").asText().equals(PghaServices.BACKUP)).findFirst().orElseThrow();
        @SuppressWarnings("unchecked") Map<String, String> podLabels = JSON.convertValue(backup.at("/spec/template/metadata/labels"), Map.class);
        assertTrue(podLabels.entrySet().containsAll(policy.getSpec().getPodSelector().getMatchLabels().entrySet()),
                "it selects the backup pods: " + podLabels);
        assertEquals(List.of("Ingress"), policy.getSpec().getPolicyTypes());
        assertEquals(1, policy.getSpec().getIngress().size());
        var ingress = policy.getSpec().getIngress().get(0);
        assertEquals(List.of(backup.at("/spec/template/spec/containers/0/ports/0/containerPort").asInt()),
                ingress.getPorts().stream().map(p -> p.getPort().getIntVal()).toList(), "the port the WAL is pushed to");
        assertEquals(2, ingress.getFrom().size());
        for (NetworkPolicyPeer peer : ingress.getFrom()) {
            assertEquals(Map.of(), peer.getNamespaceSelector().getMatchLabels(), "every namespace");
            assertEquals(null, peer.getIpBlock());
        }
        Map<String, String> instances = ingress.getFrom().get(0).getPodSelector().getMatchLabels();
        assertEquals(Map.of(Labels.COMPONENT, Labels.COMPONENT_INSTANCE), instances);
        assertTrue(InstancePod.desired(cluster, 1, Labels.ROLE_PRIMARY).getMetadata().getLabels().entrySet().containsAll(instances.entrySet()),
                "the labels the provisioner gives instance pods");
        assertFalse(RouterDeployment.desired(cluster, "pgha/router").getSpec().getTemplate().getMetadata().getLabels().entrySet()
                .containsAll(instances.entrySet()), "a router is no instance");
        assertEquals(Map.of(PghaServices.NAME_LABEL, "prometheus"), ingress.getFrom().get(1).getPodSelector().getMatchLabels());
    }

    /** The plugin's help needs no cluster; a command against an unreachable one fails with one line. */
    @Test
    void kubectlPghaHelpWorksWithNoClusterReachable() throws Exception {
        java.nio.file.Path kubeconfig = java.nio.file.Files.createTempFile("kubeconfig", ".yaml");
        try {
            // port 1 on loopback: nothing listens there
            java.nio.file.Files.writeString(kubeconfig, "apiVersion: v1\nkind: Config\nclusters: [{name: x, cluster: {server: "
                    + "\"http://127.0.0.1:1\"}}]\ncontexts: [{name: x, context: {cluster: x}}]\ncurrent-context: x\n");
            String[] help = plugin(kubeconfig, "--help");
            assertEquals("0", help[0], help[1]);
            for (String command : List.of("status", "switchover", "psql", "logs")) {
                assertTrue(help[1].contains("kubectl pgha " + command), help[1]);
            }
            String[] status = plugin(kubeconfig, "status");
            assertEquals("1", status[0]);
            assertEquals(1, status[1].strip().lines().count(), status[1]);
            assertTrue(status[1].startsWith("kubectl-pgha: cannot list PostgresClusters: "), status[1]);
            String[] unknown = plugin(kubeconfig, "frobnicate");
            assertEquals("1", unknown[0]);
            assertEquals("kubectl-pgha: unknown command 'frobnicate' (see kubectl pgha --help)", unknown[1].strip());
        } finally {
            java.nio.file.Files.delete(kubeconfig);
        }
    }

    private static String[] plugin(java.nio.file.Path kubeconfig, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of(Clusters.REPO.resolve("deploy/kubectl/kubectl-pgha").toString()));
        command.addAll(List.of(args));
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        builder.environment().put("KUBECONFIG", kubeconfig.toString());
        Process p = builder.start();
        String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertTrue(p.waitFor(30, java.util.concurrent.TimeUnit.SECONDS));
        return new String[] {Integer.toString(p.exitValue()), out};
    }

    private static JsonNode json(Object o) throws Exception {
        return JSON.readTree(K8S.asJson(o));
    }
}
