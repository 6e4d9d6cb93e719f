package io.pgha.k8se2e;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.ByteArrayInputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The pod runner itself, on pods of shell commands (no pgha service): env from the downward API,
 * Secrets and ConfigMaps; volumes and their refresh; the pod's user; probes and restarts; the
 * stop signal and grace period; Services; and the two cuts a test can make.
 */
class PodRunnerTest {
    static final String NS = "t";
    static final String MANIFESTS = """
            apiVersion: v1
            kind: ConfigMap
            metadata: {name: demo}
            data: {greeting: hello}
            ---
            apiVersion: v1
            kind: Secret
            metadata: {name: demo}
            data: {password: c2VjcmV0}
            ---
            apiVersion: v1
            kind: Service
            metadata: {name: web}
            spec:
              selector: {app: web}
              ports:
                - {name: http, port: 80, targetPort: http}
                - {name: echo, port: 7, targetPort: 7000}
            ---
            apiVersion: v1
            kind: Pod
            metadata: {name: web, labels: {app: web}}
            spec:
              terminationGracePeriodSeconds: 3
              securityContext: {runAsUser: 999, runAsGroup: 999, fsGroup: 999, runAsNonRoot: true}
              containers:
                - name: web
                  image: postgres:15
                  command: [/bin/bash, -c]
                  args:
                    - |
                      trap '' INT TERM
                      echo "$MY_NAME $MY_IP $MY_PASSWORD $MY_GREETING $(id -un)" > /work/env
                      touch /work/ready
                      socat TCP-LISTEN:8080,fork,reuseaddr SYSTEM:'echo HTTP/1.0 200 OK; echo; cat /opt/pod-runner-test/config/greeting; echo; cat /work/env' &
                      socat TCP-LISTEN:7000,fork,reuseaddr EXEC:cat &
                      while :; do sleep 1; done
                  ports:
                    - {name: http, containerPort: 8080}
                  env:
                    - {name: MY_NAME, valueFrom: {fieldRef: {fieldPath: metadata.name}}}
                    - {name: MY_IP, valueFrom: {fieldRef: {fieldPath: status.podIP}}}
                    - {name: MY_PASSWORD, valueFrom: {secretKeyRef: {name: demo, key: password}}}
                    - {name: MY_GREETING, valueFrom: {configMapKeyRef: {name: demo, key: greeting}}}
                  startupProbe:
                    tcpSocket: {port: 7000}
                    periodSeconds: 1
                  readinessProbe:
                    exec: {command: [test, -f, /work/ready]}
                    periodSeconds: 1
                    failureThreshold: 1
                  livenessProbe:
                    httpGet: {path: /, port: http}
                    periodSeconds: 2
                  volumeMounts:
                    - {name: config, mountPath: /opt/pod-runner-test/config}
                    - {name: secret, mountPath: /opt/pod-runner-test/secret}
                    - {name: podinfo, mountPath: /opt/pod-runner-test/podinfo}
                    - {name: work, mountPath: /work}
              volumes:
                - {name: config, configMap: {name: demo}}
                - {name: secret, secret: {secretName: demo, defaultMode: 0400}}
                - {name: podinfo, downwardAPI: {items: [{path: labels, fieldRef: {fieldPath: metadata.labels}}]}}
                - {name: work, emptyDir: {}}
            ---
            apiVersion: v1
            kind: Pod
            metadata: {name: flappy}
            spec:
              securityContext: {runAsUser: 999}
              containers:
                - name: flappy
                  image: postgres:15
                  command: [/bin/sleep, infinity]
                  livenessProbe:
                    exec: {command: [/bin/false]}
                    periodSeconds: 1
                    failureThreshold: 2
            ---
            apiVersion: v1
            kind: Pod
            metadata: {name: loopback}
            spec:
              securityContext: {runAsUser: 999}
              containers:
                - name: loopback
                  image: postgres:15
                  command: [socat, "TCP-LISTEN:8080,bind=127.0.0.1,fork,reuseaddr", "SYSTEM:echo HTTP/1.0 200 OK; echo"]
                  readinessProbe:
                    httpGet: {path: /, port: 8080}
                    periodSeconds: 1
            """;

    static PodRunner runner;
    static String web;

    @BeforeAll
    static void start() throws Exception {
        runner = new PodRunner(Path.of(System.getProperty("user.dir")).getParent(), (Deployment d) -> true);
        runner.createNamespace(NS);
        runner.client().load(new ByteArrayInputStream(MANIFESTS.getBytes(StandardCharsets.UTF_8))).items()
                .forEach(o -> runner.client().resource(o).inNamespace(NS).create());
        await("pod web Ready").atMost(Duration.ofMinutes(1)).until(() -> DeploymentController.ready(pod("web")));
        web = runner.clusterIp(NS, "web");
    }

    @AfterAll
    static void stop() {
        if (runner != null) {
            runner.close();
        }
    }

    static Pod pod(String name) {
        return runner.client().pods().inNamespace(NS).withName(name).get();
    }

    static Sh.Result curl(String url) {
        return runner.fromNode(List.of("curl", "-s", "-m", "3", url), 10);
    }

    @Test
    void envVolumesAndUserAsThePodSays() {
        String ip = pod("web").getStatus().getPodIP();
        assertTrue(ip.startsWith("10.244."), ip);
        assertEquals("hello\nweb " + ip + " secret hello postgres", curl("http://" + web + "/").output().strip(),
                "through the Service: the ConfigMap volume, then env from the downward API, Secret and ConfigMap, and uid 999 as postgres");
        RunningPod running = runner.pod(NS, "web");
        assertEquals("secret", running.exec("/bin/cat", "/opt/pod-runner-test/secret/password").output(), "a 0400 Secret file readable through fsGroup");
        assertEquals("app=\"web\"", running.exec("/bin/cat", "/opt/pod-runner-test/podinfo/labels").output());
        assertTrue(running.exec("/bin/touch", "/opt/pod-runner-test/config/x").exit() != 0, "ConfigMap volumes are read-only");

        runner.client().configMaps().inNamespace(NS).withName("demo").edit(c -> {
            c.getData().put("greeting", "hi");
            return c;
        });
        await("the ConfigMap change in the volume").atMost(Duration.ofSeconds(10))
                .until(() -> running.exec("/bin/cat", "/opt/pod-runner-test/config/greeting").output(), "hi"::equals);
        runner.client().pods().inNamespace(NS).withName("web").edit(p -> {
            p.getMetadata().getLabels().put("role", "x");
            return p;
        });
        await("the label in the downward-API file").atMost(Duration.ofSeconds(10))
                .until(() -> running.exec("/bin/cat", "/opt/pod-runner-test/podinfo/labels").output(), "app=\"web\"\nrole=\"x\""::equals);
    }

    @Test
    void apiServerAtTheKubernetesServiceAndCutOff() {
        RunningPod running = runner.pod(NS, "web");
        String[] get = {"/usr/bin/curl", "-s", "-m", "3", "-o", "/dev/null", "-w", "%{http_code}",
                "--cacert", RunningPod.SERVICE_ACCOUNT_DIR + "/ca.crt", "https://kubernetes.default.svc/api/v1/namespaces/t/pods"};
        assertEquals("200", running.exec(get).output(), "TLS under the service-account CA, the name from /etc/hosts");
        running.cutOffApi();
        try {
            assertFalse(running.exec(get).output().equals("200"), "cut off from the API server");
            runner.client().configMaps().inNamespace(NS).withName("demo").edit(c -> {
                c.getData().put("greeting", "stale?");
                return c;
            });
            await().pollDelay(Duration.ofSeconds(3)).until(() -> true);
            assertFalse(running.exec("/bin/cat", "/opt/pod-runner-test/config/greeting").output().equals("stale?"), "a cut-off pod keeps its old volume");
        } finally {
            running.restoreApi();
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> running.exec(get).output(), "200"::equals);
        await().atMost(Duration.ofSeconds(10)).until(() -> running.exec("/bin/cat", "/opt/pod-runner-test/config/greeting").output(), "stale?"::equals);
    }

    @Test
    void serviceSendsNewConnectionsOnlyToReadyPodsAndKeepsEstablishedOnes() throws Exception {
        RunningPod running = runner.pod(NS, "web");
        Process client = new ProcessBuilder("ip", "netns", "exec", runner.nodeNamespace(), "socat", "-", "TCP:" + web + ":7").start();
        try (OutputStream out = client.getOutputStream();
             BufferedReader in = new BufferedReader(new InputStreamReader(client.getInputStream(), StandardCharsets.UTF_8))) {
            out.write("one\n".getBytes(StandardCharsets.UTF_8));
            out.flush();
            assertEquals("one", in.readLine());
            running.exec("/bin/rm", "/work/ready");
            await("web not Ready").atMost(Duration.ofSeconds(10)).until(() -> !DeploymentController.ready(pod("web")));
            await("no new connection").atMost(Duration.ofSeconds(5)).until(() -> !curl("http://" + web + "/").ok());
            out.write("two\n".getBytes(StandardCharsets.UTF_8));
            out.flush();
            assertEquals("two", in.readLine(), "the established connection survived the endpoint change");
        } finally {
            client.destroy();
            running.exec("/bin/touch", "/work/ready");
        }
        await("web Ready again").atMost(Duration.ofSeconds(10)).until(() -> curl("http://" + web + "/").ok());

        running.setPodNetwork(false);
        try {
            assertFalse(runner.fromNode(List.of("curl", "-s", "-m", "2", "http://" + running.ip() + ":8080/"), 10).ok(), "cut off from the pods");
        } finally {
            running.setPodNetwork(true);
        }
        assertTrue(runner.fromNode(List.of("curl", "-s", "-m", "2", "http://" + running.ip() + ":8080/"), 10).ok(), "joined again");
    }

    @Test
    void aServerBoundToLoopbackFailsItsHttpGetProbeAsOnACluster() {
        RunningPod running = await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> runner.pod(NS, "loopback"), p -> true);
        await("the server answers inside the pod").atMost(Duration.ofSeconds(30))
                .until(() -> running.exec("/usr/bin/curl", "-s", "-m", "2", "http://127.0.0.1:8080/").ok());
        await().pollDelay(Duration.ofSeconds(3)).until(() -> true);
        assertFalse(DeploymentController.ready(pod("loopback")), "the kubelet probes the pod IP, which a 127.0.0.1 listener does not serve");
    }

    @Test
    void aPodOfAnImageTheNodeCannotRunIsNotStartedAndLeavesNothingBehind() {
        long namespaces = Sh.must("ip", "netns", "list").lines().count();
        runner.client().resource(new io.fabric8.kubernetes.api.model.PodBuilder().withNewMetadata().withName("foreign").endMetadata()
                .withNewSpec().addNewContainer().withName("c").withImage("nginx:1.27").endContainer().endSpec().build())
                .inNamespace(NS).create();
        await().pollDelay(Duration.ofSeconds(3)).until(() -> true);
        assertTrue(runner.kubeletPod(NS, "foreign").isEmpty(), "not started");
        assertEquals(namespaces, Sh.must("ip", "netns", "list").lines().count(), "no sandbox left behind by the retries");
    }

    @Test
    void aContainerFailingLivenessIsRestarted() {
        await("flappy restarted").atMost(Duration.ofSeconds(45))
                .until(() -> pod("flappy").getStatus().getContainerStatuses().get(0).getRestartCount() >= 1);
        assertEquals("LivenessProbeFailed", pod("flappy").getStatus().getContainerStatuses().get(0).getLastState().getTerminated().getReason());
    }

    @Test
    void deletionSendsTheStopSignalThenSigkillAfterTheGracePeriod() {
        runner.client().resource(new io.fabric8.kubernetes.api.model.PodBuilder().withNewMetadata().withName("stubborn").endMetadata()
                .withNewSpec().withTerminationGracePeriodSeconds(3L).addNewContainer().withName("c").withImage("postgres:15")
                .withCommand("/bin/bash", "-c", "trap '' INT TERM; while :; do sleep 1; done").endContainer()
                .withNewSecurityContext().withRunAsUser(999L).endSecurityContext().endSpec().build()).inNamespace(NS).create();
        await().atMost(Duration.ofSeconds(30)).until(() -> DeploymentController.ready(pod("stubborn")));
        long pid = runner.pod(NS, "stubborn").containers().get(0).pid();
        long t0 = System.nanoTime();
        runner.client().pods().inNamespace(NS).withName("stubborn").delete();
        assertTrue(pod("stubborn").getMetadata().getDeletionTimestamp() != null, "held by the kubelet's finalizer while it stops");
        await().atMost(Duration.ofSeconds(20)).until(() -> pod("stubborn") == null);
        double seconds = (System.nanoTime() - t0) / 1e9;
        assertTrue(seconds >= 3, "ignored its stop signal, so it lived out its grace period: " + seconds);
        assertFalse(ProcessHandle.of(pid).isPresent(), "SIGKILLed");
    }

}
