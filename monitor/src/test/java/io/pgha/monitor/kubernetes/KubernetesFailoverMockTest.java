package io.pgha.monitor.kubernetes;

import io.fabric8.kubernetes.api.model.ContainerStatusBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.Watch;
import io.fabric8.kubernetes.client.Watcher;
import io.fabric8.kubernetes.client.WatcherException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.pgha.api.ClusterNames;
import io.pgha.api.Labels;
import io.pgha.api.v1.ConditionTypes;
import io.pgha.api.v1.Conditions;
import io.pgha.api.v1.cluster.PostgresCluster;
import io.pgha.api.v1.cluster.PostgresClusterStatus;
import io.pgha.api.v1.cluster.TopologyStatus;
import io.pgha.api.tls.InstanceCertificates;
import io.pgha.local.LocalSecrets;
import io.pgha.local.OsUser;
import io.pgha.local.PgCtl;
import io.pgha.local.testing.TempDirectories;
import io.pgha.monitor.service.ClusterMonitor;
import io.pgha.monitor.service.MonitorRunner;
import io.pgha.monitor.testing.LocalCluster;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A real {@link ClusterMonitor} on its Kubernetes adapters: the API server is the fabric8 mock
 * (CRUD mode), the instances are real PostgreSQL servers of a {@link LocalCluster}, each behind a
 * pod whose IP is 127.0.0.1 and whose container port is the server's. The test plays the
 * provisioner (cluster, secret, pods) and the kubelet (Ready conditions; a deleted pod's server is
 * stopped, fast with a grace period, at once without, and its exit code reported before the pod
 * goes).
 */
@EnableKubernetesMockClient(crud = true)
class KubernetesFailoverMockTest {
    static KubernetesClient client;
    private static final String KUBELET = "test.pgha.io/kubelet";
    private static Vertx vertx;

    @BeforeAll
    static void setUp() throws Exception {
        vertx = Vertx.vertx();
        MockApi.installCrd(client);
    }

    @AfterAll
    static void closeVertx() {
        vertx.close().toCompletionStage().toCompletableFuture().join();
    }

    /**
     * The cluster, its superuser and CA certificate secrets and its pods, as the provisioner would
     * have made them, with every instance serving a certificate of that CA naming it (the monitor
     * logs in to none without). Returns where the instances find the CA certificate.
     */
    private static String mirror(LocalCluster cluster, String ns) throws Exception {
        PostgresCluster local = cluster.cluster();
        PostgresCluster k = new PostgresCluster();
        k.getMetadata().setName(LocalCluster.NAME);
        k.getMetadata().setNamespace(ns);
        k.setSpec(local.getSpec());
        client.resource(k).create();
        client.resources(PostgresCluster.class).inNamespace(ns).withName(LocalCluster.NAME).subresource("status")
                .patch(PatchContext.of(PatchType.JSON_MERGE), StatusPatch.JSON.asJson(Map.of("status", local.getStatus())));
        LocalSecrets.Credentials su = new LocalSecrets(cluster.layout()).get(ClusterNames.superuserSecret(LocalCluster.NAME)).orElseThrow();
        client.resource(new SecretBuilder().withNewMetadata().withName(ClusterNames.superuserSecret(LocalCluster.NAME))
                .withNamespace(ns).endMetadata().withType("kubernetes.io/basic-auth")
                .withData(Map.of("username", b64(su.username()), "password", b64(su.password()))).build()).create();
        Path caFile = serveCertificates(cluster);
        client.resource(new SecretBuilder().withNewMetadata().withName(ClusterNames.caCertificateSecret(LocalCluster.NAME))
                .withNamespace(ns).endMetadata()
                .withData(Map.of(InstanceCertificates.CA_CERT, b64(Files.readString(caFile)))).build()).create();
        for (String n : cluster.names()) {
            MockApi.pod(client, ns, n, n.equals("pg-1") ? Labels.ROLE_PRIMARY : Labels.ROLE_STANDBY, "127.0.0.1",
                    cluster.port(n), true, KUBELET);
        }
        return caFile.toString();
    }

    /**
     * A CA (made with openssl, ECDSA P-256 as the provisioner's) and a certificate per instance
     * naming it, installed as the instance's server.crt/server.key with {@code ssl = on}.
     */
    private static Path serveCertificates(LocalCluster cluster) throws Exception {
        Path dir = TempDirectories.deletedAtExit("pgha-monitor-tls");
        // the instances' OS user reads the CA certificate for their replication connections
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path ca = dir.resolve(InstanceCertificates.CA_CERT);
        openssl(dir, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                "-keyout", "ca.key", "-out", ca.toString(), "-days", "2", "-subj", "/CN=pgha-test-ca");
        Files.setPosixFilePermissions(ca, PosixFilePermissions.fromString("rw-r--r--"));
        OsUser postgres = OsUser.forPostgres();
        for (String n : cluster.names()) {
            Files.writeString(dir.resolve(n + ".ext"), "subjectAltName=DNS:" + n + "\n");
            openssl(dir, "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                    "-keyout", n + ".key", "-out", n + ".csr", "-subj", "/CN=" + n);
            openssl(dir, "x509", "-req", "-in", n + ".csr", "-CA", ca.toString(), "-CAkey", "ca.key", "-CAcreateserial",
                    "-days", "2", "-extfile", n + ".ext", "-out", n + ".crt");
            Path data = cluster.layout().dataDir(n);
            for (String[] f : new String[][] {{n + ".crt", "server.crt"}, {n + ".key", "server.key"}}) {
                Path to = data.resolve(f[1]);
                Files.copy(dir.resolve(f[0]), to);
                Files.setPosixFilePermissions(to, PosixFilePermissions.fromString("rw-------"));
                postgres.chown(to);
            }
            try (Connection c = cluster.connect(n); Statement st = c.createStatement()) {
                st.execute("ALTER SYSTEM SET ssl = on");
                st.execute("SELECT pg_reload_conf()");
            }
            await().atMost(10, TimeUnit.SECONDS).until(() -> "on".equals(cluster.query(n, "SHOW ssl")));
        }
        return ca;
    }

    private static void openssl(Path dir, String... args) throws Exception {
        List<String> command = new java.util.ArrayList<>(List.of("openssl"));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), "openssl " + String.join(" ", args) + ": " + out);
    }

    private static String b64(String s) {
        return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
    }

    /**
     * The kubelet for the pods of {@code ns}: once a pod is marked deleted, its server stops (fast
     * within a grace period, immediately for a grace period of a second or less, as a SIGKILL
     * would), the container's exit code goes to the pod status, and then the pod goes.
     */
    private static final class Kubelet implements AutoCloseable {
        private final ExecutorService work = Executors.newSingleThreadExecutor();
        private final Set<String> stopping = ConcurrentHashMap.newKeySet();
        private final Watch watch;

        Kubelet(LocalCluster cluster, String ns) {
            watch = client.pods().inNamespace(ns).watch(new Watcher<>() {
                @Override
                public void eventReceived(Action action, Pod pod) {
                    String name = pod.getMetadata().getName();
                    if (pod.getMetadata().getDeletionTimestamp() != null && stopping.add(pod.getMetadata().getUid())) {
                        Long grace = pod.getMetadata().getDeletionGracePeriodSeconds();
                        boolean kill = grace != null && grace <= 1;
                        work.execute(() -> stop(cluster, ns, name, kill));
                    }
                }

                @Override
                public void onClose(WatcherException cause) {
                }
            });
        }

        private static void stop(LocalCluster cluster, String ns, String name, boolean kill) {
            cluster.pgCtl().stop(cluster.layout().dataDir(name), kill ? PgCtl.StopMode.IMMEDIATE : PgCtl.StopMode.FAST);
            int exitCode = kill ? 137 : 0;
            client.pods().inNamespace(ns).withName(name).editStatus(p -> {
                p.getStatus().setContainerStatuses(List.of(new ContainerStatusBuilder().withName(ClusterNames.INSTANCE_CONTAINER)
                        .withNewState().withNewTerminated().withExitCode(exitCode).endTerminated().endState().build()));
                return p;
            });
            client.pods().inNamespace(ns).withName(name).edit(p -> {
                p.getMetadata().getFinalizers().remove(KUBELET);
                return p;
            });
        }

        @Override
        public void close() {
            watch.close();
            work.shutdownNow();
        }
    }

    private static MonitorRunner monitor(String ns, String instanceCaFile) {
        ClusterMonitor.Config config = new ClusterMonitor.Config(Duration.ofSeconds(3), Duration.ofSeconds(5),
                Duration.ofSeconds(30), Duration.ofSeconds(60), Duration.ofSeconds(5), Duration.ofSeconds(10));
        return new MonitorRunner(new KubernetesPlatform(client, Optional.of(ns), Clock.systemUTC(), instanceCaFile), vertx,
                new SimpleMeterRegistry(), "monitor-k8s", config, Clock.systemUTC()).start();
    }

    private static PostgresClusterStatus status(String ns) {
        return client.resources(PostgresCluster.class).inNamespace(ns).withName(LocalCluster.NAME).get().getStatus();
    }

    private static void awaitHealthy(String ns) {
        await().atMost(60, TimeUnit.SECONDS).untilAsserted(() -> {
            TopologyStatus t = status(ns).topology;
            assertEquals("pg-1", t.currentPrimary);
            assertEquals(3, t.instances.size());
            t.instances.forEach(i -> assertEquals(Boolean.TRUE, i.healthy, i.name + " healthy"));
        });
        Lease lease = client.resources(Lease.class).inNamespace(ns).withName(ClusterNames.monitorLease(LocalCluster.NAME)).get();
        assertEquals("monitor-k8s", lease.getSpec().getHolderIdentity());
        assertEquals(List.of("pg-1"), MockApi.readWriteEndpoints(client, ns));
    }

    @Test
    void aPrimaryWhosePodIsNotReadyIsFailedOverAndTheRoleLabelsAndStatusFollow() throws Exception {
        String ns = "failover";
        try (LocalCluster cluster = LocalCluster.start(3, true, 3, 500)) {
            String caFile = mirror(cluster, ns);
            try (Kubelet kubelet = new Kubelet(cluster, ns); MonitorRunner monitor = monitor(ns, caFile)) {
                awaitHealthy(ns);

                // pg-1 still answers as a primary, but its pod turns not ready
                MockApi.ready(client, ns, "pg-1", false);
                await().atMost(90, TimeUnit.SECONDS).untilAsserted(() -> {
                    PostgresClusterStatus s = status(ns);
                    assertNotEquals("pg-1", s.topology.currentPrimary);
                    assertEquals(1, s.topology.history.size());
                    assertFalse(Conditions.isTrue(s.conditions, ConditionTypes.FAILING_OVER));
                });
                PostgresClusterStatus s = status(ns);
                String promoted = s.topology.currentPrimary;
                String other = promoted.equals("pg-2") ? "pg-3" : "pg-2";
                TopologyStatus.Promotion h = s.topology.history.get(0);
                assertEquals("failover", h.kind);
                assertEquals("pg-1", h.from);
                assertEquals(promoted, h.to);
                assertEquals(2, s.topology.timeline);
                assertEquals(List.of("pg-1"), s.topology.fenced);
                assertEquals(3, s.provisioning.instances.size(), "the provisioner's part of the status is untouched");

                // the -rw service selects exactly the new primary; the old pod is gone and its server stopped
                await().atMost(10, TimeUnit.SECONDS).untilAsserted(() ->
                        assertEquals(List.of(promoted), MockApi.readWriteEndpoints(client, ns)));
                assertNull(client.pods().inNamespace(ns).withName("pg-1").get());
                assertThrows(SQLException.class, () -> cluster.query("pg-1", "SELECT 1"));
                assertEquals(Labels.ROLE_STANDBY, client.pods().inNamespace(ns).withName(other).get().getMetadata().getLabels()
                        .get(Labels.ROLE));
                assertEquals("f", cluster.query(promoted, "SELECT pg_is_in_recovery()"));
                // the other standby streams from the new primary, re-pointed at its pod's address
                await().atMost(30, TimeUnit.SECONDS).untilAsserted(() -> {
                    assertEquals("streaming", cluster.query(other, "SELECT status FROM pg_stat_wal_receiver"));
                    assertEquals(Integer.toString(cluster.port(promoted)),
                            cluster.query(other, "SELECT sender_port FROM pg_stat_wal_receiver"));
                });
                assertTrue(monitor.monitor().orElseThrow().isLeader());
            }
        }
    }

    @Test
    void aSwitchoverStopsTheOldPrimaryCleanlyAndPromotesTheTargetWithAllOfItsWal() throws Exception {
        String ns = "switchover";
        try (LocalCluster cluster = LocalCluster.start(3, true, 3, 500)) {
            String caFile = mirror(cluster, ns);
            try (Kubelet kubelet = new Kubelet(cluster, ns); MonitorRunner monitor = monitor(ns, caFile)) {
                awaitHealthy(ns);
                try (Connection c = cluster.connect("pg-1"); Statement st = c.createStatement()) {
                    st.execute("CREATE TABLE before_switchover AS SELECT generate_series(1, 10000) AS id");
                }

                ClusterMonitor.SwitchoverResult r = monitor.monitor().orElseThrow().requestSwitchover("pg-3")
                        .get(120, TimeUnit.SECONDS);
                assertTrue(r.done(), r.message());
                PostgresClusterStatus s = status(ns);
                assertEquals("pg-3", s.topology.currentPrimary);
                TopologyStatus.Promotion h = s.topology.history.get(0);
                assertEquals("switchover", h.kind);
                assertEquals("pg-1", h.from);
                assertEquals("pg-3", h.to);
                await().atMost(10, TimeUnit.SECONDS).untilAsserted(() ->
                        assertEquals(List.of("pg-3"), MockApi.readWriteEndpoints(client, ns)));
                assertNull(client.pods().inNamespace(ns).withName("pg-1").get());
                assertThrows(SQLException.class, () -> cluster.query("pg-1", "SELECT 1"));
                // everything the old primary wrote is on the new one
                assertEquals("f", cluster.query("pg-3", "SELECT pg_is_in_recovery()"));
                assertEquals("10000", cluster.query("pg-3", "SELECT count(*) FROM before_switchover"));
            }
        }
    }
}
