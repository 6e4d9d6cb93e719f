package io.pgha.k8se2e;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.KubernetesClient;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.stream.Stream;

/**
 * A one-node Kubernetes for tests: the mock API server, the kubelet, the Deployment controller
 * and the Service proxy, synced twice a second. Needs root (network and mount namespaces), as CI
 * runs; everything it creates lives under one run directory and in namespaces named after the run.
 */
final class PodRunner implements AutoCloseable {
    private static final long SYNC_MS = 500;

    private final Path repo;
    private final Path dir;
    private final ApiServer api;
    private final NodeNetwork network;
    private final ServiceProxy services;
    private final Kubelet kubelet;
    private final DeploymentController deployments;
    private final ScheduledExecutorService loop = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "pod-runner-sync");
        t.setDaemon(true);
        return t;
    });

    /** @param runs which Deployments the controller gives pods (the others are stored and left alone) */
    PodRunner(Path repo, Predicate<Deployment> runs) throws IOException {
        if (!"0".equals(Sh.must("id", "-u").strip())) {
            throw new IllegalStateException("the pod runner needs root (network and mount namespaces), as CI runs its tests");
        }
        this.repo = repo;
        String run = HexFormat.of().formatHex(new byte[] {(byte) ThreadLocalRandom.current().nextInt(),
                (byte) ThreadLocalRandom.current().nextInt()});
        // not under /tmp or any other path a pod mounts over: the sources of its bind mounts must stay visible
        Files.createDirectories(repo.resolve("k8s-e2e/target"));
        dir = Files.createTempDirectory(repo.resolve("k8s-e2e/target"), "pod-runner-" + run + "-");
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        api = new ApiServer(dir);
        network = new NodeNetwork("pk" + run);
        services = new ServiceProxy(network, dir.resolve("services"));
        kubelet = new Kubelet(api, network, new Images(repo), dir, services::hostsFile, services.resolvConf());
        deployments = new DeploymentController(api.client(), runs);
        loop.scheduleWithFixedDelay(this::sync, 0, SYNC_MS, TimeUnit.MILLISECONDS);
        // a test JVM stopped from outside still takes its pods and namespaces down
        Runtime.getRuntime().addShutdownHook(shutdownHook);
    }

    private final Thread shutdownHook = new Thread(this::stopEverything, "pod-runner-shutdown");
    private boolean closed;

    private void sync() {
        try {
            kubelet.sync();
            List<Pod> pods = api.client().pods().inAnyNamespace().list().getItems();
            deployments.sync(pods);
            services.sync(api.client().services().inAnyNamespace().list().getItems(), pods);
        } catch (RuntimeException e) {
            kubelet.log("sync failed: " + e);
        }
    }

    KubernetesClient client() {
        return api.client();
    }

    Path directory() {
        return dir;
    }

    java.util.Optional<RunningPod> kubeletPod(String namespace, String name) {
        return kubelet.pod(namespace, name);
    }

    RunningPod pod(String namespace, String name) {
        return kubelet.pod(namespace, name).orElseThrow(() -> new IllegalStateException("pod " + namespace + "/" + name + " does not run"));
    }

    /** Where a PersistentVolumeClaim's volume lives on this node. */
    Path claimDirectory(String namespace, String claim) {
        return kubelet.claimDirectory(namespace, claim);
    }

    String nodeNamespace() {
        return network.nodeNamespace();
    }

    String clusterIp(String namespace, String service) {
        return services.clusterIp(namespace, service);
    }

    /** The objects `kubectl kustomize` builds from a directory of the repository. */
    List<HasMetadata> kustomize(String path) {
        String yaml = Sh.must("kubectl", "kustomize", repo.resolve(path).toString());
        return api.client().load(new ByteArrayInputStream(yaml.getBytes(StandardCharsets.UTF_8))).items();
    }

    void createNamespace(String name) {
        create(List.of(new NamespaceBuilder().withNewMetadata().withName(name).endMetadata().build()));
    }

    /** Creates the objects; a namespace gets the label a real API server puts on every one (1.22 and later). */
    void create(List<HasMetadata> objects) {
        for (HasMetadata o : objects) {
            if (o instanceof Namespace ns) {
                if (ns.getMetadata().getLabels() == null) {
                    ns.getMetadata().setLabels(new java.util.HashMap<>());
                }
                ns.getMetadata().getLabels().put(NAMESPACE_NAME_LABEL, ns.getMetadata().getName());
            }
            api.client().resource(o).create();
        }
    }

    static final String NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name";

    /**
     * Runs the repository's kubectl-pgha plugin on the host against this run's API server, through
     * the host's kubectl with a kubeconfig (and discovery cache) of its own.
     */
    Sh.Result kubectlPgha(List<String> args, int timeoutSeconds) {
        Path kubeconfig = dir.resolve("kubeconfig");
        try {
            Files.writeString(kubeconfig, """
                    apiVersion: v1
                    kind: Config
                    clusters: [{name: e2e, cluster: {server: "%s"}}]
                    users: [{name: e2e, user: {token: e2e}}]
                    contexts: [{name: e2e, context: {cluster: e2e, user: e2e}}]
                    current-context: e2e
                    """.formatted(api.url()));
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        List<String> command = new ArrayList<>(List.of(repo.resolve("deploy/kubectl/kubectl-pgha").toString()));
        command.addAll(args);
        ProcessBuilder builder = new ProcessBuilder(command);
        builder.environment().put("KUBECONFIG", kubeconfig.toString());
        builder.environment().put("KUBECACHEDIR", dir.resolve("kubectl-cache").toString());
        return Sh.run(builder, timeoutSeconds);
    }

    /** Runs a command from the node's network namespace (where the Service cluster IPs answer), as a client on the node. */
    Sh.Result fromNode(List<String> command, int timeoutSeconds) {
        List<String> argv = new ArrayList<>(List.of("ip", "netns", "exec", network.nodeNamespace()));
        argv.addAll(command);
        return Sh.run(argv, timeoutSeconds);
    }

    /** The last lines of the kubelet's log and of every container's, for a failed test's report. */
    String logTail(int lines) {
        StringBuilder b = new StringBuilder();
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".log") && Files.isRegularFile(p)).sorted().toList()) {
                List<String> all = Files.readAllLines(f, StandardCharsets.ISO_8859_1);
                b.append("==> ").append(dir.relativize(f)).append('\n');
                all.subList(Math.max(0, all.size() - lines), all.size()).forEach(l -> b.append(l).append('\n'));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return b.toString();
    }

    @Override
    public void close() {
        Runtime.getRuntime().removeShutdownHook(shutdownHook);
        stopEverything();
    }

    private synchronized void stopEverything() {
        if (closed) {
            return;
        }
        closed = true;
        loop.shutdownNow();
        try {
            loop.awaitTermination(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        kubelet.close();
        services.close();
        network.close();
        api.close();
    }
}
