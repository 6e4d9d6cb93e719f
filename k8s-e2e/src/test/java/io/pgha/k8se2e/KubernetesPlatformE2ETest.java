package io.pgha.k8se2e;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.pgha.api.ClusterNames;
import io.pgha.api.Labels;
import io.pgha.api.v1.ClusterPhase;
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

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The Kubernetes platform as it runs: the provisioner and the monitor as pods from the kustomize
 * base's own Deployments (their env, ports and probes as written), the router Deployment the
 * provisioner creates, and instance pods running real PostgreSQL 15 through the real bootstrap.sh,
 * all on the {@link PodRunner}. The tests share one cluster and run in order.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@ExtendWith(KubernetesPlatformE2ETest.LogsOnFailure.class)
class KubernetesPlatformE2ETest {
    static final String SYSTEM_NAMESPACE = "pgha-system";
    static final String NAMESPACE = "db";
    static final String CLUSTER = "pg";
    /** The backup service is not part of these tests: its Deployment is stored but gets no pod. */
    static final String BACKUP_DEPLOYMENT = "pgha-backup";
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
            """;

    static PodRunner runner;

    @BeforeAll
    static void start() throws Exception {
        Path repo = Path.of(System.getProperty("user.dir")).getParent();
        runner = new PodRunner(repo, (Deployment d) -> !BACKUP_DEPLOYMENT.equals(d.getMetadata().getName()));
        runner.create(runner.kustomize("kustomize/base"));
        runner.createNamespace(NAMESPACE);
        runner.create(runner.client().load(new ByteArrayInputStream(MANIFEST.getBytes(StandardCharsets.UTF_8))).items()
                .stream().map(o -> { o.getMetadata().setNamespace(NAMESPACE); return (HasMetadata) o; }).toList());
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
        Sh.Result r = runner.fromNode(List.of("env", "PGPASSWORD=" + password, "PGCONNECT_TIMEOUT=5", "psql", "-X", "-qAt",
                "host=" + host + " port=" + port + " user=" + user + " dbname=" + database + " sslmode=disable", "-c", sql), 30);
        if (!r.ok()) {
            throw new IllegalStateException("psql to " + host + ":" + port + " as " + user + ": " + r.output().strip());
        }
        return r.output().strip();
    }
}
