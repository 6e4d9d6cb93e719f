package io.pgha.k8se2e;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaimBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.VolumeBuilder;
import io.fabric8.kubernetes.api.model.VolumeMountBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.pgha.api.ClusterNames;
import io.pgha.api.Labels;
import io.pgha.api.PrimaryIsolation;
import io.pgha.api.tls.InstanceCertificates;
import io.pgha.api.tls.ServerIdentity;
import io.pgha.api.v1.ClusterPhase;
import io.pgha.api.v1.Condition;
import io.pgha.api.v1.ConditionTypes;
import io.pgha.api.v1.backup.PostgresBackup;
import io.pgha.api.v1.backup.PostgresBackupStatus;
import io.pgha.api.v1.cluster.PostgresCluster;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.TestWatcher;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.BufferedReader;
import java.io.ByteArrayInputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.TreeMap;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The Kubernetes platform as it runs: the provisioner, the monitor and the backup service as pods
 * from the kustomize base's own Deployments (their env, ports and probes as written; the backup
 * service's gets a volume for its filesystem repository, as a user adds one), the router
 * Deployment the provisioner creates, and instance pods running real PostgreSQL 15 through the
 * real bootstrap.sh, all on the {@link PodRunner}. The tests share one cluster and run in order.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@ExtendWith(KubernetesPlatformE2ETest.LogsOnFailure.class)
class KubernetesPlatformE2ETest {
    static final String SYSTEM_NAMESPACE = "pgha-system";
    static final String NAMESPACE = "db";
    static final String CLUSTER = "pg";
    static final String BACKUP_DEPLOYMENT = "pgha-backup";
    /** The backup service's filesystem repository: a claim in pgha's namespace, mounted at this path. */
    static final String REPOSITORY_CLAIM = "pgha-backups";
    static final String REPOSITORY_PATH = "/var/lib/pgha/backups";
    static final String MANIFEST = """
            apiVersion: pgha.io/v1
            kind: PostgresCluster
            metadata:
              name: pg
            spec:
              instances: 3
              postgres:
                image: postgres:15
              storage:
                size: 1Gi
              router:
                replicas: 1
              backup:
                repository:
                  filesystem:
                    path: /var/lib/pgha/backups
                verify: "* * * * *"
            """;

    static PodRunner runner;

    @BeforeAll
    static void start() throws Exception {
        Path repo = Path.of(System.getProperty("user.dir")).getParent();
        runner = new PodRunner(repo, (Deployment d) -> true);
        List<HasMetadata> base = runner.kustomize("kustomize/base");
        base.stream().filter(o -> o instanceof Deployment && BACKUP_DEPLOYMENT.equals(o.getMetadata().getName()))
                .forEach(o -> mountRepository((Deployment) o));
        runner.create(base);
        runner.create(List.of(new PersistentVolumeClaimBuilder().withNewMetadata().withName(REPOSITORY_CLAIM)
                .withNamespace(SYSTEM_NAMESPACE).endMetadata().withNewSpec().withAccessModes("ReadWriteOnce")
                .withNewResources().addToRequests("storage", new Quantity("1Gi")).endResources().endSpec().build()));
        runner.createNamespace(NAMESPACE);
        runner.create(runner.client().load(new ByteArrayInputStream(MANIFEST.getBytes(StandardCharsets.UTF_8))).items()
                .stream().map(o -> { o.getMetadata().setNamespace(NAMESPACE); return (HasMetadata) o; }).toList());
    }

    /** What a user of a filesystem repository adds to the backup service's Deployment: the claim, mounted at the spec's path. */
    static void mountRepository(Deployment backup) {
        backup.getSpec().getTemplate().getSpec().getVolumes().add(new VolumeBuilder().withName("repository")
                .withNewPersistentVolumeClaim().withClaimName(REPOSITORY_CLAIM).endPersistentVolumeClaim().build());
        backup.getSpec().getTemplate().getSpec().getContainers().get(0).getVolumeMounts()
                .add(new VolumeMountBuilder().withName("repository").withMountPath(REPOSITORY_PATH).build());
    }

    @AfterAll
    static void stop() {
        if (runner != null) {
            runner.close();
        }
    }

    /** On a failure: where the run's files are, and the end of every log. */
    static final class LogsOnFailure implements TestWatcher {
        @Override
        public void testFailed(ExtensionContext context, Throwable cause) {
            if (runner != null) {
                System.err.println("pod runner directory: " + runner.directory());
                System.err.println(runner.logTail(40));
            }
        }
    }

    @Test
    @Order(1)
    void provisionerPodBringsUpThreeInstancesOfRealPostgres() {
        await("cluster " + CLUSTER + " Ready").atMost(Duration.ofMinutes(5)).pollInterval(Duration.ofSeconds(2))
                .until(() -> ClusterPhase.READY.equals(phase()));
        List<Pod> instances = instancePods();
        assertEquals(3, instances.size(), "instance pods");
        List<String> roles = new ArrayList<>();
        for (Pod p : instances) {
            assertTrue(DeploymentController.ready(p), p.getMetadata().getName() + " Ready");
            RunningPod running = runner.pod(NAMESPACE, p.getMetadata().getName());
            long pid = running.containers().get(0).pid();
            String exe = Sh.must("readlink", "/proc/" + pid + "/exe").strip();
            assertEquals("/usr/lib/postgresql/15/bin/postgres", exe, "the container's main process is PostgreSQL 15");
            roles.add(superuserSql(p.getStatus().getPodIP(), "SELECT CASE WHEN pg_is_in_recovery() THEN 'standby' ELSE 'primary' END"));
        }
        assertEquals(1, roles.stream().filter("primary"::equals).count(), "one primary: " + roles);
        assertEquals(2, roles.stream().filter("standby"::equals).count(), "two standbys: " + roles);
        // the provisioner itself is the kustomize base's Deployment, Ready through its own probes
        Pod provisioner = deploymentPods(SYSTEM_NAMESPACE, "pgha-provisioner").get(0);
        assertTrue(DeploymentController.ready(provisioner), "provisioner pod Ready");
    }

    @Test
    @Order(2)
    void monitorAndRouterDeploymentsRunAndPassTheirProbes() {
        await("router pods Ready").atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofSeconds(2))
                .until(() -> deploymentPods(NAMESPACE, ClusterNames.routerDeployment(CLUSTER)).stream().anyMatch(DeploymentController::ready));
        await("monitor pod Ready").atMost(Duration.ofMinutes(1)).pollInterval(Duration.ofSeconds(2))
                .until(() -> deploymentPods(SYSTEM_NAMESPACE, "pgha-monitor").stream().anyMatch(DeploymentController::ready));
        await("backup pod Ready").atMost(Duration.ofMinutes(1)).pollInterval(Duration.ofSeconds(2))
                .until(() -> deploymentPods(SYSTEM_NAMESPACE, BACKUP_DEPLOYMENT).stream().anyMatch(DeploymentController::ready));
        // the router found the instances through its Service account's watch: it listens on its Service
        String router = runner.clusterIp(NAMESPACE, ClusterNames.routerService(CLUSTER));
        assertTrue(runner.fromNode(List.of("/bin/bash", "-c", "exec 3<>/dev/tcp/" + router + "/5432"), 10).ok(),
                "the router Service accepts connections");
    }

    @Test
    @Order(3)
    void theNetworkPolicyAdmitsExactlyTheInstancesTheRouterAndTheMonitor() {
        NetworkPolicy policy = runner.client().network().v1().networkPolicies().inNamespace(NAMESPACE)
                .withName(ClusterNames.networkPolicy(CLUSTER)).get();
        assertTrue(policy != null, "the provisioner created NetworkPolicy " + ClusterNames.networkPolicy(CLUSTER));
        Map<String, Map<String, String>> namespaceLabels = new TreeMap<>();
        runner.client().namespaces().list().getItems().forEach(n -> namespaceLabels.put(n.getMetadata().getName(),
                n.getMetadata().getLabels() == null ? Map.of() : n.getMetadata().getLabels()));
        Set<String> protectedPods = new TreeSet<>();
        Set<String> admitted = new TreeSet<>();
        for (Pod p : allPods()) {
            String name = p.getMetadata().getNamespace() + "/" + p.getMetadata().getName();
            if (NetworkPolicies.protects(policy, p)) {
                protectedPods.add(name);
            }
            if (NetworkPolicies.admits(policy, p, namespaceLabels.get(p.getMetadata().getNamespace()), 5432)) {
                admitted.add(name);
            }
        }
        Set<String> instances = new TreeSet<>(instancePods().stream().map(p -> NAMESPACE + "/" + p.getMetadata().getName()).toList());
        assertEquals(instances, protectedPods, "the policy protects every instance and nothing else");
        Set<String> expected = new TreeSet<>(instances);
        deploymentPods(NAMESPACE, ClusterNames.routerDeployment(CLUSTER)).forEach(p -> expected.add(NAMESPACE + "/" + p.getMetadata().getName()));
        deploymentPods(SYSTEM_NAMESPACE, "pgha-monitor").forEach(p -> expected.add(SYSTEM_NAMESPACE + "/" + p.getMetadata().getName()));
        deploymentPods(SYSTEM_NAMESPACE, BACKUP_DEPLOYMENT).forEach(p -> expected.add(SYSTEM_NAMESPACE + "/" + p.getMetadata().getName()));
        assertEquals(expected, admitted,
                "only the instances, the router, the monitor and the backup service reach PostgreSQL (the provisioner does not)");
        assertTrue(allPods().stream().anyMatch(p -> p.getMetadata().getName().startsWith("pgha-provisioner")),
                "the provisioner pod is there and refused");
        // the backup service's labels in another namespace are not enough
        Pod backup = new io.fabric8.kubernetes.api.model.PodBuilder().withNewMetadata().withName("pgha-backup-x")
                .withNamespace(NAMESPACE).withLabels(Map.of("app.kubernetes.io/name", BACKUP_DEPLOYMENT)).endMetadata().build();
        assertTrue(!NetworkPolicies.admits(policy, backup, namespaceLabels.get(NAMESPACE), 5432));
    }

    @Test
    @Order(4)
    void kubectlPghaStatusShowsTheClusterAndEveryInstance() {
        PostgresCluster cluster = runner.client().resources(PostgresCluster.class).inNamespace(NAMESPACE).withName(CLUSTER).get();
        String primary = cluster.getStatus().topology.currentPrimary;
        Sh.Result status = runner.kubectlPgha(List.of("status", "-n", NAMESPACE), 60);
        System.out.println("kubectl pgha status:\n" + status.output());
        assertEquals(0, status.exit(), status.output());
        List<String> lines = status.output().lines().toList();
        assertEquals("cluster " + CLUSTER + ": Ready (3/3 ready; primary " + primary + ")", lines.get(0));
        List<String> rows = lines.stream().filter(l -> l.startsWith(CLUSTER + "-")).toList();
        assertEquals(3, rows.size(), status.output());
        for (String row : rows) {
            String[] f = row.trim().split("\\s+");
            assertEquals(f[0].equals(primary) ? "primary" : "standby", f[1], row);
            assertEquals("yes", f[2], "pod Ready: " + row);
            assertEquals(runner.pod(NAMESPACE, f[0]).ip(), f[f.length - 1], row);
        }
        // one line naming the problem, exit 1, when the cluster named does not exist
        Sh.Result missing = runner.kubectlPgha(List.of("status", "-n", NAMESPACE, "-c", "nosuch"), 60);
        assertEquals(1, missing.exit());
        assertEquals(1, missing.output().strip().lines().count(), missing.output());
        assertTrue(missing.output().startsWith("kubectl-pgha: ") && missing.output().contains("nosuch"), missing.output());
    }

    @Test
    @Order(5)
    void routerServiceLogsInAsTheAppUserAndReadsFromAStandby() {
        String router = runner.clusterIp(NAMESPACE, ClusterNames.routerService(CLUSTER));
        String appSecret = ClusterNames.appSecret(CLUSTER);
        String user = secret(appSecret, "username");
        String password = secret(appSecret, "password");
        String database = secret(appSecret, "database");
        String primary = primaryName();
        // a read outside a transaction goes to a healthy standby (spec.router.readPolicy: standby, the default)
        String answer = await("a read through the router").atMost(Duration.ofMinutes(1)).pollInterval(Duration.ofSeconds(2))
                .ignoreExceptions().until(() -> psql(router, 5432, user, password, database,
                        "SELECT current_user || ' ' || pg_is_in_recovery() || ' ' || current_setting('cluster_name')"), a -> a != null);
        String[] parts = answer.split(" ");
        assertEquals(user, parts[0], "logged in as the app user");
        assertEquals("true", parts[1], "the read ran on a standby: " + answer);
        assertTrue(!parts[2].equals(primary), "not on the primary " + primary + ": " + answer);
    }

    /**
     * TLS inside the cluster, from one sequence on the running cluster: every instance serves a
     * certificate of the cluster's CA naming it, and refuses connections without TLS; the monitor's,
     * the router's and the standbys' connections are TLS. Then a standby is made to serve another
     * instance's certificate (valid, same CA, wrong name) while the provisioner is scaled to zero
     * so that it cannot repair it: the monitor and the router refuse that standby. Scaled back,
     * the provisioner issues the standby a new certificate, the pod installs it without a
     * restart, and both accept the standby again.
     */
    @Test
    @Order(6)
    void instancesServeVerifiedCertificatesAndAWrongNameIsRefusedUntilItIsRotated() throws Exception {
        Path caFile = runner.directory().resolve("cluster-ca.crt");
        java.nio.file.Files.writeString(caFile, secret(ClusterNames.caCertificateSecret(CLUSTER), InstanceCertificates.CA_CERT));
        String primary = primaryName();
        List<Pod> pods = instancePods();
        for (Pod p : pods) {
            String name = p.getMetadata().getName();
            assertEquals("t", verifiedSql(name, p.getStatus().getPodIP(), caFile, "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()"),
                    name + " answers verify-full for its own name at its pod IP");
            assertEquals(servedFingerprint(p.getStatus().getPodIP()), fingerprint(instanceCertificate(name)), name + " serves its Secret's certificate");
        }
        String plain = runner.fromNode(List.of("env", "PGPASSWORD=" + secret(ClusterNames.superuserSecret(CLUSTER), "password"), "psql", "-X",
                "host=" + pods.get(0).getStatus().getPodIP() + " user=postgres dbname=postgres sslmode=disable", "-c", "SELECT 1"), 30).output();
        assertTrue(plain.contains("no encryption"), "a connection without TLS is refused: " + plain);
        String rwIp = runner.clusterIp(NAMESPACE, ClusterNames.readWriteService(CLUSTER));
        // every connection from another pod to the primary: the monitor's, the router's (pooled, lookup, replay
        // polling) and the standbys' WAL senders; the test's own psql is TLS too
        await("the monitor and the router are connected to the primary").atMost(Duration.ofMinutes(1)).pollInterval(Duration.ofSeconds(2))
                .until(() -> Integer.parseInt(superuserSql(rwIp, "SELECT count(DISTINCT client_addr) FROM pg_stat_activity"
                        + " WHERE client_addr IS NOT NULL AND backend_type = 'client backend' AND pid <> pg_backend_pid()")) >= 2);
        assertEquals("0", superuserSql(rwIp, "SELECT count(*) FROM pg_stat_activity a JOIN pg_stat_ssl s USING (pid)"
                + " WHERE a.client_addr IS NOT NULL AND NOT s.ssl"), "no connection from another pod without TLS");
        assertEquals("2", superuserSql(rwIp, "SELECT count(*) FROM pg_stat_replication r JOIN pg_stat_ssl s USING (pid) WHERE s.ssl"),
                "both standbys stream over TLS");

        String victim = pods.stream().map(p -> p.getMetadata().getName()).filter(n -> !n.equals(primary)).sorted().findFirst().orElseThrow();
        String other = pods.stream().map(p -> p.getMetadata().getName()).filter(n -> !n.equals(primary) && !n.equals(victim)).findFirst().orElseThrow();
        String victimIp = runner.pod(NAMESPACE, victim).ip();
        String original = fingerprint(instanceCertificate(victim));
        scaleProvisioner(0);
        try {
            await("the provisioner is gone").atMost(Duration.ofMinutes(1)).pollInterval(Duration.ofSeconds(1))
                    .until(() -> deploymentPods(SYSTEM_NAMESPACE, "pgha-provisioner").isEmpty());
            Secret wrong = runner.client().secrets().inNamespace(NAMESPACE).withName(ClusterNames.instanceTlsSecret(other)).get();
            runner.client().secrets().inNamespace(NAMESPACE).withName(ClusterNames.instanceTlsSecret(victim))
                    .edit(sec -> { sec.setData(wrong.getData()); return sec; });
            // kubelet refreshes the volume, the liveness check installs the files and reloads
            await(victim + " serves " + other + "'s certificate").atMost(Duration.ofMinutes(1)).pollInterval(Duration.ofSeconds(2))
                    .until(() -> servedFingerprint(victimIp).equals(fingerprint(instanceCertificate(other))));
            String refused = verifiedSqlOutput(victim, victimIp, caFile, "SELECT 1");
            assertTrue(refused.contains("does not match host name"), "libpq's verify-full refuses it too: " + refused);
            // established connections were verified at their start: end them, so that the clients open new ones
            superuserSql(victimIp, "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE client_addr IS NOT NULL"
                    + " AND backend_type = 'client backend' AND pid <> pg_backend_pid()");
            await("the monitor reports " + victim + " unhealthy").atMost(Duration.ofMinutes(1)).pollInterval(Duration.ofSeconds(1))
                    .until(() -> Boolean.FALSE.equals(instanceHealthy(victim)));
            // the backup service's short looks at the archive backlog check the cluster's CA only (it would back up any
            // instance of the cluster, which already knows its passwords): they are not what this counts
            assertEquals("0", superuserSql(victimIp, "SELECT count(*) FROM pg_stat_activity WHERE client_addr IS NOT NULL"
                    + " AND backend_type = 'client backend' AND pid <> pg_backend_pid()"
                    + " AND application_name <> '" + ClusterNames.BACKUP_APPLICATION_NAME + "'"),
                    "neither the monitor nor the router logged in to the misnamed instance");
            String router = runner.clusterIp(NAMESPACE, ClusterNames.routerService(CLUSTER));
            List<String> readsAt = new ArrayList<>();
            await("reads through the router").atMost(Duration.ofMinutes(1)).pollInterval(Duration.ofMillis(500)).ignoreExceptions()
                    .until(() -> {
                        readsAt.add(psql(router, 5432, secret(ClusterNames.appSecret(CLUSTER), "username"),
                                secret(ClusterNames.appSecret(CLUSTER), "password"), secret(ClusterNames.appSecret(CLUSTER), "database"),
                                "SELECT current_setting('cluster_name')"));
                        return readsAt.size() >= 10;
                    });
            assertTrue(!readsAt.contains(victim), "reads through the router reached the misnamed " + victim + ": " + readsAt);
        } finally {
            scaleProvisioner(1);
        }
        long t0 = System.nanoTime();
        await("the provisioner rotates " + victim + "'s certificate and the pod serves it").atMost(Duration.ofMinutes(4))
                .pollInterval(Duration.ofSeconds(2)).ignoreExceptions()
                .until(() -> !fingerprint(instanceCertificate(victim)).equals(fingerprint(instanceCertificate(other)))
                        && servedFingerprint(victimIp).equals(fingerprint(instanceCertificate(victim))));
        String rotated = fingerprint(instanceCertificate(victim));
        assertTrue(!rotated.equals(original) && !rotated.equals(fingerprint(instanceCertificate(other))), "a new certificate");
        assertEquals("t", verifiedSql(victim, victimIp, caFile, "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()"));
        await("the monitor accepts " + victim + " again").atMost(Duration.ofMinutes(1)).pollInterval(Duration.ofSeconds(1))
                .until(() -> Boolean.TRUE.equals(instanceHealthy(victim)));
        System.out.printf("certificate of %s rotated and served %.1f s after the provisioner was scaled back%n", victim,
                (System.nanoTime() - t0) / 1e9);
        await("the provisioner Ready again").atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofSeconds(2))
                .until(() -> deploymentPods(SYSTEM_NAMESPACE, "pgha-provisioner").stream().anyMatch(DeploymentController::ready));
    }

    static void scaleProvisioner(int replicas) {
        runner.client().apps().deployments().inNamespace(SYSTEM_NAMESPACE).withName("pgha-provisioner")
                .edit(d -> { d.getSpec().setReplicas(replicas); return d; });
    }

    static Boolean instanceHealthy(String instance) {
        PostgresCluster c = runner.client().resources(PostgresCluster.class).inNamespace(NAMESPACE).withName(CLUSTER).get();
        return c.getStatus().topology.instance(instance).map(i -> i.healthy).orElse(null);
    }

    static java.security.cert.X509Certificate instanceCertificate(String instance) {
        return ServerIdentity.certificates(secret(ClusterNames.instanceTlsSecret(instance), InstanceCertificates.CERT)).get(0);
    }

    static String fingerprint(java.security.cert.X509Certificate cert) throws Exception {
        return java.util.HexFormat.ofDelimiter(":").withUpperCase()
                .formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(cert.getEncoded()));
    }

    /** The SHA-256 fingerprint of the certificate the server at {@code ip} serves, as openssl reads it after PostgreSQL's SSLRequest. */
    static String servedFingerprint(String ip) {
        Sh.Result r = runner.fromNode(List.of("/bin/bash", "-c", "openssl s_client -starttls postgres -connect " + ip + ":5432 </dev/null 2>/dev/null"
                + " | openssl x509 -noout -fingerprint -sha256"), 30);
        String out = r.output().strip();
        return out.contains("=") ? out.substring(out.indexOf('=') + 1) : "none: " + out;
    }

    /** psql with verify-full: to the pod IP, expecting the certificate to name {@code name} (libpq's host/hostaddr). */
    static String verifiedSql(String name, String ip, Path caFile, String sql) {
        String out = verifiedSqlOutput(name, ip, caFile, sql);
        if (out.startsWith("FAILED")) {
            throw new IllegalStateException(out);
        }
        return out;
    }

    static String verifiedSqlOutput(String name, String ip, Path caFile, String sql) {
        Sh.Result r = runner.fromNode(List.of("env", "PGPASSWORD=" + secret(ClusterNames.superuserSecret(CLUSTER), "password"),
                "PGCONNECT_TIMEOUT=5", "psql", "-X", "-qAt", "host=" + name + " hostaddr=" + ip + " port=5432 user=postgres dbname=postgres"
                        + " sslmode=verify-full sslrootcert=" + caFile, "-c", sql), 30);
        return r.ok() ? r.output().strip() : "FAILED " + r.output().strip();
    }

    /** The instance the -rw Service sends a new connection to, asked over that very connection. */
    static String primaryName() {
        return superuserSql(runner.clusterIp(NAMESPACE, ClusterNames.readWriteService(CLUSTER)),
                "SELECT current_setting('cluster_name') WHERE NOT pg_is_in_recovery()");
    }

    @Test
    @Order(7)
    void everyProbePassesInSteadyState() {
        await("every pod Ready").atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofSeconds(2)).until(() -> allPods().stream()
                .allMatch(DeploymentController::ready));
        Map<String, Integer> before = restartCounts();
        System.out.println("restarts before steady state (startup): " + before);
        long end = System.nanoTime() + STEADY_STATE.toNanos();
        while (System.nanoTime() < end) {
            List<String> notReady = allPods().stream().filter(p -> !DeploymentController.ready(p)).map(p -> p.getMetadata().getName()).toList();
            assertEquals(List.of(), notReady, "pods that lost Ready in steady state");
            await().pollDelay(Duration.ofSeconds(5)).until(() -> true);
        }
        assertEquals(before, restartCounts(), "container restarts over " + STEADY_STATE.toSeconds() + " s of steady state");
    }

    /**
     * A minute in CI: twice the longest liveness window of any pod (three failures 10 s apart), so a
     * probe that keeps failing restarts its container within it. {@code k8s-e2e/soak.sh} holds it longer.
     */
    static final Duration STEADY_STATE = Duration.ofSeconds(Long.getLong("pgha.k8s.steady-state-seconds", 60));

    static List<Pod> allPods() {
        List<Pod> all = new ArrayList<>(runner.client().pods().inNamespace(NAMESPACE).list().getItems());
        all.addAll(runner.client().pods().inNamespace(SYSTEM_NAMESPACE).list().getItems());
        return all.stream().filter(p -> p.getMetadata().getDeletionTimestamp() == null).toList();
    }

    static Map<String, Integer> restartCounts() {
        Map<String, Integer> counts = new TreeMap<>();
        for (Pod p : allPods()) {
            p.getStatus().getContainerStatuses().forEach(c -> counts.put(p.getMetadata().getName() + "/" + c.getName(), c.getRestartCount()));
        }
        return counts;
    }

    @Test
    @Order(8)
    void plannedSwitchoverLosesNoAcknowledgedWrite() throws Exception {
        String rw = runner.clusterIp(NAMESPACE, ClusterNames.readWriteService(CLUSTER));
        superuserSql(rw, "CREATE TABLE acked(id int PRIMARY KEY)");
        String old = primaryName();
        String target = instancePods().stream().map(p -> p.getMetadata().getName()).filter(n -> !n.equals(old)).sorted().findFirst()
                .orElseThrow();
        // a client through the -rw Service: one INSERT per connection, printing the ids whose commit it saw acknowledged
        ProcessBuilder writerBuilder = new ProcessBuilder("ip", "netns", "exec", runner.nodeNamespace(), "bash", "-c",
                "for i in $(seq 1 100000); do psql -X -qAt \"host=" + rw + " port=5432 user=" + ClusterNames.SUPERUSER
                        + " dbname=postgres connect_timeout=3\" -c \"INSERT INTO acked VALUES ($i)\" >/dev/null 2>&1 && echo $i; "
                        + "sleep 0.05; done").redirectError(ProcessBuilder.Redirect.DISCARD);
        writerBuilder.environment().put("PGPASSWORD", secret(ClusterNames.superuserSecret(CLUSTER), "password"));
        Process writer = writerBuilder.start();
        writer.getOutputStream().close();
        Set<Integer> acked = ConcurrentHashMap.newKeySet();
        Thread reader = new Thread(() -> new BufferedReader(new InputStreamReader(writer.getInputStream(), StandardCharsets.UTF_8))
                .lines().forEach(l -> acked.add(Integer.parseInt(l.strip()))));
        reader.start();
        try {
            await("writes before the switchover").atMost(Duration.ofMinutes(1)).until(() -> acked.size() >= 20);
            long t0 = System.nanoTime();
            // through the kubectl plugin, which annotates the cluster and waits until the monitor recorded the new primary
            Sh.Result switchover = runner.kubectlPgha(List.of("switchover", "-n", NAMESPACE, "--to", target, "--wait", "--timeout", "120"), 150);
            assertEquals(0, switchover.exit(), switchover.output());
            assertTrue(switchover.output().contains(target + " is the primary of " + CLUSTER), switchover.output());
            assertEquals(target, runner.client().resources(PostgresCluster.class).inNamespace(NAMESPACE).withName(CLUSTER).get()
                    .getMetadata().getAnnotations().get(Labels.SWITCHOVER_ANNOTATION));
            await("the -rw Service on " + target).atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofSeconds(1)).ignoreExceptions()
                    .until(KubernetesPlatformE2ETest::primaryName, target::equals);
            System.out.printf("switchover: %s -> %s behind the -rw Service %.1f s after the annotation%n", old, target,
                    (System.nanoTime() - t0) / 1e9);
            int before = acked.size();
            await("writes after the switchover").atMost(Duration.ofMinutes(1)).until(() -> acked.size() >= before + 20);
        } finally {
            writer.destroy();
            writer.waitFor();
            reader.join();
        }
        Set<Integer> stored = new HashSet<>();
        for (String id : superuserSql(rw, "SELECT id FROM acked").split("\n")) {
            stored.add(Integer.parseInt(id));
        }
        Set<Integer> lost = new TreeSet<>(acked);
        lost.removeAll(stored);
        assertEquals(Set.of(), lost, "acknowledged commits missing after the switchover (" + acked.size() + " acknowledged)");
        System.out.printf("switchover: %d commits acknowledged through the -rw Service, none lost%n", acked.size());
        assertEquals(target, runner.client().resources(PostgresCluster.class).inNamespace(NAMESPACE).withName(CLUSTER).get()
                .getStatus().topology.currentPrimary, "the monitor recorded the switchover");
        await("three instances Ready again, the former primary a standby").atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofSeconds(2))
                .until(() -> instancePods().size() == 3 && instancePods().stream().allMatch(DeploymentController::ready));
        assertEquals("standby", superuserSql(runner.pod(NAMESPACE, old).ip(),
                "SELECT CASE WHEN pg_is_in_recovery() THEN 'standby' ELSE 'primary' END"));
    }

    @Test
    @Order(9)
    void primaryPostgresKilledTheMonitorFailsOverAndTheRwServiceFollows() {
        String old = primaryName();
        RunningPod pod = runner.pod(NAMESPACE, old);
        long t0 = System.nanoTime();
        pod.containers().get(0).signal("KILL");
        String next = await("a new primary behind the -rw Service").atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofSeconds(1))
                .ignoreExceptions().until(KubernetesPlatformE2ETest::primaryName, n -> n != null && !n.isEmpty() && !n.equals(old));
        System.out.printf("failover: %s -> %s behind the -rw Service %.1f s after SIGKILL%n", old, next, (System.nanoTime() - t0) / 1e9);
        PostgresCluster c = runner.client().resources(PostgresCluster.class).inNamespace(NAMESPACE).withName(CLUSTER).get();
        assertEquals(next, c.getStatus().topology.currentPrimary, "the monitor recorded the new primary");
        // writes work on the new primary through the Service
        superuserSql(runner.clusterIp(NAMESPACE, ClusterNames.readWriteService(CLUSTER)), "CREATE TABLE after_failover(x int)");
    }

    /**
     * A primary cut off from the API server (but not from its clients or the monitor) stops taking
     * writes by itself within {@link PrimaryIsolation#selfFenceBound()}: after that no write reaches
     * it at its own address. The monitor still sees it healthy until then, so what stops the writes
     * is the instance's own liveness check, not a fence. (The kubelet here still sees the API
     * server, unlike a partitioned node's; that a restarted container with a stale primary label
     * does not start as primary is shown by BootstrapScriptTest.)
     */
    /**
     * The backup service as the base runs it: every instance's archive_command (wal-push.sh, through
     * the backup Service, with the cluster's token) archived the WAL of all three timelines the
     * switchover and the failover made, with no hole in any of them and each new timeline's history
     * file, and a PostgresBackup of the running cluster completes, streamed from an instance pod
     * into the repository. The next slot of spec.backup.verify restores it in a drill inside the
     * backup pod (the image's PostgreSQL binaries, its user, its scratch volume).
     */
    @Test
    @Order(10)
    void theBackupServiceArchivesEveryTimelineWithoutAHoleAndTakesABaseBackup() throws Exception {
        String rw = runner.clusterIp(NAMESPACE, ClusterNames.readWriteService(CLUSTER));
        String lastWal = superuserSql(rw, "SELECT pg_walfile_name(pg_switch_wal())");
        await("the segment just switched is archived").atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofSeconds(2))
                .until(() -> archived().stream().anyMatch(f -> f.startsWith(lastWal)));
        List<String> files = archived();
        int timeline = Integer.parseInt(lastWal.substring(0, 8), 16);
        assertEquals(3, timeline, "a switchover and a failover made timelines 2 and 3: " + lastWal);
        for (int tli = 2; tli <= timeline; tli++) {
            String history = String.format("%08X.history", tli);
            assertTrue(files.stream().anyMatch(f -> f.startsWith(history)), history + " archived: " + files);
        }
        for (int tli = 1; tli <= timeline; tli++) {
            String prefix = String.format("%08X", tli);
            // a timeline's WAL: its whole segments and the .partial one it was forked from; a timeline
            // that ended within its first segment has only that (ci42: timeline 2's 08.partial)
            List<Long> segments = files.stream()
                    .filter(f -> f.startsWith(prefix) && (f.matches(SEGMENT_OBJECT) || f.matches(PARTIAL_OBJECT)))
                    .map(f -> Long.parseLong(f.substring(8, 16), 16) * 0x100 + Long.parseLong(f.substring(16, 24), 16))
                    .distinct().sorted().toList();
            assertTrue(!segments.isEmpty(), "segments of timeline " + tli + " archived: " + files);
            assertEquals(segments.get(segments.size() - 1) - segments.get(0) + 1, segments.size(),
                    "no hole in timeline " + tli + "'s WAL: " + segments);
        }

        PostgresBackup backup = new PostgresBackup();
        backup.setMetadata(new ObjectMetaBuilder().withName("pg-k8s-e2e").withNamespace(NAMESPACE).build());
        backup.getSpec().cluster = CLUSTER;
        runner.client().resource(backup).create();
        PostgresBackupStatus done = await("the PostgresBackup ends").atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofSeconds(2))
                .until(() -> runner.client().resources(PostgresBackup.class).inNamespace(NAMESPACE).withName("pg-k8s-e2e").get().getStatus(),
                        st -> st != null && (PostgresBackupStatus.PHASE_COMPLETED.equals(st.phase) || PostgresBackupStatus.PHASE_FAILED.equals(st.phase)));
        assertEquals(PostgresBackupStatus.PHASE_COMPLETED, done.phase, "the backup completed: " + done.error);
        assertTrue(done.beginLsn != null && done.endLsn != null, "begin and end LSN recorded");
        await("status.backup has the backup and archiving is healthy").atMost(Duration.ofMinutes(1)).pollInterval(Duration.ofSeconds(2))
                .until(() -> {
                    PostgresCluster c = runner.client().resources(PostgresCluster.class).inNamespace(NAMESPACE).withName(CLUSTER).get();
                    return c.getStatus().backup != null && done.finishedAt.equals(c.getStatus().backup.lastSuccessfulBackup)
                            && c.getStatus().conditions.stream().anyMatch(k -> ConditionTypes.CONTINUOUS_ARCHIVING.equals(k.type)
                            && Condition.TRUE.equals(k.status));
                });
        PostgresCluster drilled = await("a drill of the backup in the backup pod").atMost(Duration.ofMinutes(3))
                .pollInterval(Duration.ofSeconds(2))
                .until(() -> runner.client().resources(PostgresCluster.class).inNamespace(NAMESPACE).withName(CLUSTER).get(),
                        c -> "pg-k8s-e2e".equals(c.getStatus().backup.lastVerifiedBackup) || c.getStatus().backup.lastDrillFailure != null);
        assertEquals("pg-k8s-e2e", drilled.getStatus().backup.lastVerifiedBackup, "drill failure: " + drilled.getStatus().backup.lastDrillFailure);
    }

    /** A full segment's object: its name and the compression's suffix (not a .partial, .backup or .history file). */
    static final String SEGMENT_OBJECT = "[0-9A-F]{24}(\\.zst|\\.lz4)?";
    /** The last segment of a timeline as its primary had it when another timeline forked from it. */
    static final String PARTIAL_OBJECT = "[0-9A-F]{24}\\.partial(\\.zst|\\.lz4)?";

    /** The file names in the repository's WAL directories of the cluster (its prefix is the cluster's name). */
    static List<String> archived() throws java.io.IOException {
        Path wal = runner.claimDirectory(SYSTEM_NAMESPACE, REPOSITORY_CLAIM).resolve(CLUSTER).resolve("wal");
        if (!java.nio.file.Files.isDirectory(wal)) {
            return List.of();
        }
        try (var paths = java.nio.file.Files.walk(wal)) {
            return paths.filter(java.nio.file.Files::isRegularFile).map(f -> f.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    @Order(11)
    void aPrimaryCutOffFromTheApiServerStopsTakingWritesWithinTheStatedBound() {
        String primary = primaryName();
        RunningPod pod = runner.pod(NAMESPACE, primary);
        String ip = pod.ip();
        superuserSql(ip, "CREATE TABLE isolation_probe(x int)");
        assertTrue(writes(ip), "the primary takes writes before it is cut off");
        long t0 = System.nanoTime();
        pod.cutOffApi();
        Duration bound = PrimaryIsolation.selfFenceBound();
        // slack for the pod runner's own probe scheduling on a loaded two-core machine
        await("the cut-off primary stops taking writes").atMost(bound.plus(SCHEDULING_SLACK)).pollInterval(Duration.ofMillis(500))
                .until(() -> !writes(ip));
        double seconds = (System.nanoTime() - t0) / 1e9;
        System.out.printf("isolated primary %s stopped taking writes %.1f s after losing the API server (bound %d s)%n",
                primary, seconds, bound.toSeconds());
        await("no write reaches the cut-off primary again").during(Duration.ofSeconds(20)).atMost(Duration.ofSeconds(60))
                .pollInterval(Duration.ofSeconds(1)).until(() -> !writes(ip));
    }

    static final Duration SCHEDULING_SLACK = Duration.ofSeconds(15);
    static final int PROBE_TIMEOUT_SECONDS = 8;

    /** Whether an INSERT as the superuser commits at this address. */
    static boolean writes(String host) {
        try {
            // bounded: once the monitor has failed over, the cut-off pod is deleted and a probe sent to its address
            // while the pod's network goes away can hang; an INSERT that got no answer was not acknowledged
            psql(host, 5432, ClusterNames.SUPERUSER, secret(ClusterNames.superuserSecret(CLUSTER), "password"), "postgres",
                    "INSERT INTO isolation_probe VALUES (1)", PROBE_TIMEOUT_SECONDS);
            return true;
        } catch (IllegalStateException e) {
            return false;
        }
    }

    static String phase() {
        PostgresCluster c = runner.client().resources(PostgresCluster.class).inNamespace(NAMESPACE).withName(CLUSTER).get();
        return c == null || c.getStatus() == null ? null : c.getStatus().phase;
    }

    static List<Pod> instancePods() {
        return runner.client().pods().inNamespace(NAMESPACE).withLabel(Labels.CLUSTER, CLUSTER)
                .withLabel(Labels.COMPONENT, Labels.COMPONENT_INSTANCE).list().getItems().stream()
                .filter(p -> p.getMetadata().getDeletionTimestamp() == null).toList();
    }

    static List<Pod> deploymentPods(String namespace, String deployment) {
        return runner.client().pods().inNamespace(namespace).list().getItems().stream()
                .filter(p -> p.getMetadata().getOwnerReferences() != null && p.getMetadata().getOwnerReferences().stream()
                        .anyMatch(o -> "Deployment".equals(o.getKind()) && deployment.equals(o.getName())))
                .filter(p -> p.getMetadata().getDeletionTimestamp() == null).toList();
    }

    static String secret(String name, String key) {
        Secret s = runner.client().secrets().inNamespace(NAMESPACE).withName(name).get();
        return new String(Base64.getDecoder().decode(s.getData().get(key)), StandardCharsets.UTF_8);
    }

    /** A query as the superuser, with psql from the node to a host (a pod IP or a Service's cluster IP). */
    static String superuserSql(String host, String sql) {
        return psql(host, 5432, ClusterNames.SUPERUSER, secret(ClusterNames.superuserSecret(CLUSTER), "password"), "postgres", sql);
    }

    static String psql(String host, int port, String user, String password, String database, String sql) {
        return psql(host, port, user, password, database, sql, 30);
    }

    static String psql(String host, int port, String user, String password, String database, String sql, int timeoutSeconds) {
        Sh.Result r = runner.fromNode(List.of("env", "PGPASSWORD=" + password, "PGCONNECT_TIMEOUT=5", "psql", "-X", "-qAt",
                "host=" + host + " port=" + port + " user=" + user + " dbname=" + database + " sslmode=prefer", "-c", sql), timeoutSeconds);
        if (!r.ok()) {
            throw new IllegalStateException("psql to " + host + ":" + port + " as " + user + ": " + r.output().strip());
        }
        return r.output().strip();
    }
}
