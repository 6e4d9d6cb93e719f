package io.pgha.k8se2e;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.DownwardAPIVolumeFile;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodCondition;
import io.fabric8.kubernetes.api.model.PodConditionBuilder;
import io.fabric8.kubernetes.api.model.PodSecurityContext;
import io.fabric8.kubernetes.api.model.PodStatus;
import io.fabric8.kubernetes.api.model.PodStatusBuilder;
import io.fabric8.kubernetes.api.model.SecurityContext;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.VolumeProjection;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * One pod on the test node: its sandbox (network namespace and IP, the relay to the API server),
 * its volumes as directories, and a {@link ContainerRunner} per container, each container process
 * in a mount namespace of its own where the pod's volumes, the service-account files and the
 * node's /etc/hosts are bind-mounted at the paths the pod asks for.
 */
final class RunningPod {
    static final String SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";
    private static final long DEFAULT_GRACE_SECONDS = 30;
    /** Where a container's mount namespace holds its mount sources while it mounts them (a tmpfs private to it). */
    private static final String STAGE = "/run/pgha-pod-runner-stage";

    private final Kubelet kubelet;
    private final Pod pod;
    private final Path dir;
    private final Instant startTime = Instant.now();
    private final List<ContainerRunner> runners = new ArrayList<>();
    private final List<Thread> threads = new ArrayList<>();
    private final Map<String, Path> volumeDirs = new LinkedHashMap<>();
    private final Map<String, PodCondition> conditions = new LinkedHashMap<>();
    private NodeNetwork.Sandbox sandbox;
    private volatile Process relay;
    private volatile boolean terminating;

    RunningPod(Kubelet kubelet, Pod pod, Path dir) {
        this.kubelet = kubelet;
        this.pod = pod;
        this.dir = dir;
    }

    Pod pod() {
        return pod;
    }

    String key() {
        return pod.getMetadata().getNamespace() + "/" + pod.getMetadata().getName();
    }

    String uid() {
        return pod.getMetadata().getUid();
    }

    String ip() {
        return sandbox.ip();
    }

    void log(String message) {
        kubelet.log(key() + ": " + message);
    }

    /** Sandbox, relay and volumes; then the containers start, each retrying until what it needs exists. */
    void start() throws IOException {
        Files.createDirectories(dir);
        // first what may fail (a claim or Secret not there yet, an image this node cannot run): nothing is left behind
        prepareVolumes();
        writeServiceAccount();
        List<Images.Image> images = pod.getSpec().getContainers().stream().map(c -> kubelet.images().resolve(c.getImage())).toList();
        sandbox = kubelet.network().addPod();
        // the pod's view of itself from now on carries its IP (status.podIP for env and downward API)
        if (pod.getStatus() == null) {
            pod.setStatus(new PodStatus());
        }
        pod.getStatus().setPodIP(sandbox.ip());
        relay = kubelet.api().startRelay(sandbox.namespace(), dir.resolve("api-relay.log"));
        for (int i = 0; i < images.size(); i++) {
            Container c = pod.getSpec().getContainers().get(i);
            ContainerRunner runner = new ContainerRunner(this, c, images.get(i), dir.resolve(c.getName() + ".log"));
            runners.add(runner);
            Thread t = new Thread(runner, "pod-" + pod.getMetadata().getName() + "-" + c.getName());
            t.setDaemon(true);
            threads.add(t);
        }
        threads.forEach(Thread::start);
        log("started with IP " + sandbox.ip() + " in " + sandbox.namespace());
    }

    List<ContainerRunner> containers() {
        return runners;
    }

    boolean terminating() {
        return terminating;
    }

    void markTerminating() {
        terminating = true;
    }

    /** SIGTERM (the image's stop signal) to every container, SIGKILL after the grace period, then the sandbox goes. */
    void stop(Long graceOverride) {
        terminating = true;
        graceSeconds = graceOverride;
        runners.forEach(ContainerRunner::stop);
        for (Thread t : threads) {
            try {
                t.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        cutOffApi();
        if (sandbox != null) {
            kubelet.network().removePod(sandbox);
        }
        log("stopped");
    }

    private volatile Long graceSeconds;

    long gracePeriodSeconds() {
        if (graceSeconds != null) {
            return graceSeconds;
        }
        Long spec = pod.getSpec().getTerminationGracePeriodSeconds();
        return spec == null ? DEFAULT_GRACE_SECONDS : spec;
    }

    /** Stops the pod's relay and the connections it carries: the pod no longer reaches the API server. */
    void cutOffApi() {
        Process r = relay;
        if (r != null) {
            ApiServer.stop(r);
            relay = null;
            log("cut off from the API server");
        }
    }

    boolean apiReachable() {
        return relay != null;
    }

    void restoreApi() {
        if (relay == null) {
            relay = kubelet.api().startRelay(sandbox.namespace(), dir.resolve("api-relay.log"));
            log("reaches the API server again");
        }
    }

    /** Takes the pod's link to the node's bridge down (up): no other pod or Service reaches it, nor it them. */
    void setPodNetwork(boolean connected) {
        kubelet.network().setPodLink(sandbox, connected);
        log(connected ? "joined to the pod network again" : "cut off from the other pods");
    }

    // ---- containers

    Map<String, String> environment(Container c, Images.Image image) {
        return kubelet.objects().environment(pod, image.env(), c.getEnv());
    }

    /**
     * Starts a container's process: in the pod's network namespace, a new mount and UTS namespace
     * where a small root script bind-mounts the volumes and then execs the command as the
     * container's user, so the process's pid is the container's main pid.
     */
    Process launch(Container c, Images.Image image, Map<String, String> env, Path log) {
        long uid = kubelet.mapUid(userOf(c, image));
        if (uid == 0 && nonRoot(c)) {
            throw new IllegalArgumentException("container has runAsNonRoot and image will run as root");
        }
        List<String> command = new ArrayList<>();
        command.addAll(c.getCommand() != null && !c.getCommand().isEmpty() ? c.getCommand() : image.entrypoint());
        if (c.getArgs() != null) {
            command.addAll(c.getArgs());
        }
        if (command.isEmpty()) {
            throw new IllegalArgumentException("container " + c.getName() + " has no command and its image no entrypoint");
        }
        StringBuilder script = new StringBuilder("set -e\n");
        String hostname = pod.getSpec().getHostname() != null ? pod.getSpec().getHostname() : pod.getMetadata().getName();
        script.append("hostname ").append(q(hostname)).append('\n');
        Map<String, Mount> mounts = new LinkedHashMap<>();
        image.mounts().forEach((target, source) -> mounts.put(target, new Mount(source, true)));
        for (VolumeMount m : c.getVolumeMounts() == null ? List.<VolumeMount>of() : c.getVolumeMounts()) {
            Path source = volumeDirs.get(m.getName());
            if (source == null) {
                throw new IllegalArgumentException("volumeMount " + m.getName() + " names no volume of the pod");
            }
            if (m.getSubPath() != null && !m.getSubPath().isEmpty()) {
                source = source.resolve(m.getSubPath());
            }
            mounts.put(m.getMountPath(), new Mount(source, Boolean.TRUE.equals(m.getReadOnly())));
        }
        if (!Boolean.FALSE.equals(pod.getSpec().getAutomountServiceAccountToken())) {
            mounts.putIfAbsent(SERVICE_ACCOUNT_DIR, new Mount(dir.resolve("serviceaccount"), true));
        }
        mounts.put("/etc/hosts", new Mount(kubelet.hostsFile(pod.getMetadata().getNamespace()), true));
        mounts.put("/etc/resolv.conf", new Mount(kubelet.resolvConf(), true));
        // Stage every source first: a mount may cover the path of another's source (a volume at /work
        // hides this run's directory under it). Then mount parents before children, as the kubelet does.
        script.append("mkdir -p ").append(STAGE).append("\nmount -t tmpfs -o mode=0700 pod-runner-stage ").append(STAGE).append('\n');
        List<String> targets = new ArrayList<>(mounts.keySet());
        for (int i = 0; i < targets.size(); i++) {
            Mount m = mounts.get(targets.get(i));
            script.append(Files.isRegularFile(m.source()) ? "touch " : "mkdir ").append(STAGE).append('/').append(i).append('\n');
            script.append("mount --bind ").append(q(m.source().toString())).append(' ').append(STAGE).append('/').append(i).append('\n');
        }
        List<String> ordered = targets.stream().sorted().toList();
        for (String target : ordered) {
            Mount m = mounts.get(target);
            if (!Files.isRegularFile(m.source())) {
                script.append("mkdir -p ").append(q(target)).append('\n');
            }
            script.append("mount --bind ").append(STAGE).append('/').append(targets.indexOf(target)).append(' ').append(q(target)).append('\n');
            if (m.readOnly()) {
                script.append("mount -o remount,bind,ro ").append(q(target)).append('\n');
            }
        }
        script.append("umount -l ").append(STAGE).append('\n');
        String workingDir = c.getWorkingDir() != null ? c.getWorkingDir() : image.workingDir();
        script.append("cd ").append(q(workingDir)).append('\n');
        script.append("exec ").append(String.join(" ", setpriv(c, image))).append(" -- \"$@\"\n");
        Path file = dir.resolve("start-" + c.getName() + ".sh");
        try {
            Files.writeString(file, script.toString());
            List<String> argv = new ArrayList<>(List.of("ip", "netns", "exec", sandbox.namespace(),
                    "/usr/bin/unshare", "--mount", "--uts", "--propagation", "private", "/bin/sh", file.toString()));
            argv.addAll(command);
            ProcessBuilder b = new ProcessBuilder(argv).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
            b.environment().clear();
            b.environment().putAll(env);
            Process p = b.start();
            p.getOutputStream().close();
            log(c.getName() + ": started pid " + p.pid() + ": " + String.join(" ", command));
            return p;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private record Mount(Path source, boolean readOnly) {
    }

    /** An exec probe: the command run as the container's user in the container's mount and network namespaces. */
    List<String> execCommand(long pid, List<String> command) {
        Container c = runners.stream().filter(r -> r.pid() == pid).findFirst()
                .map(r -> pod.getSpec().getContainers().stream().filter(x -> x.getName().equals(r.name())).findFirst().orElseThrow())
                .orElse(pod.getSpec().getContainers().get(0));
        Images.Image image = kubelet.images().resolve(c.getImage());
        List<String> argv = new ArrayList<>(List.of("/usr/bin/nsenter", "-t", Long.toString(pid), "-m", "-n", "-u", "--"));
        argv.addAll(setpriv(c, image));
        argv.add("--");
        argv.addAll(command);
        return argv;
    }

    /** Runs a command in the pod's first container, as its user and in its namespaces ({@code kubectl exec}). */
    Sh.Result exec(String... command) {
        ContainerRunner c = runners.get(0);
        ProcessBuilder b = new ProcessBuilder(execCommand(c.pid(), List.of(command))).redirectErrorStream(true);
        try {
            Process p = b.start();
            p.getOutputStream().close();
            if (!p.waitFor(30, java.util.concurrent.TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return new Sh.Result(124, "timed out");
            }
            return new Sh.Result(p.exitValue(), new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** A command run from the node (its network namespace), as the kubelet's httpGet and tcpSocket probes are. */
    List<String> fromNode(List<String> command) {
        List<String> argv = new ArrayList<>(List.of("ip", "netns", "exec", kubelet.network().nodeNamespace()));
        argv.addAll(command);
        return argv;
    }

    private List<String> setpriv(Container c, Images.Image image) {
        long uid = kubelet.mapUid(userOf(c, image));
        Long group = first(c.getSecurityContext() == null ? null : c.getSecurityContext().getRunAsGroup(),
                podSecurity().getRunAsGroup());
        long gid = group == null ? 0 : kubelet.mapGid(group);
        List<String> argv = new ArrayList<>(List.of("/usr/bin/setpriv", "--reuid=" + uid, "--regid=" + gid));
        Long fsGroup = podSecurity().getFsGroup();
        argv.add(fsGroup == null ? "--clear-groups" : "--groups=" + kubelet.mapGid(fsGroup));
        return argv;
    }

    private long userOf(Container c, Images.Image image) {
        Long u = first(c.getSecurityContext() == null ? null : c.getSecurityContext().getRunAsUser(), podSecurity().getRunAsUser());
        return u == null ? image.user() : u;
    }

    private boolean nonRoot(Container c) {
        SecurityContext sc = c.getSecurityContext();
        return Boolean.TRUE.equals(first(sc == null ? null : sc.getRunAsNonRoot(), podSecurity().getRunAsNonRoot()));
    }

    private PodSecurityContext podSecurity() {
        return pod.getSpec().getSecurityContext() == null ? new PodSecurityContext() : pod.getSpec().getSecurityContext();
    }

    private static <T> T first(T a, T b) {
        return a != null ? a : b;
    }

    static String q(String s) {
        return "'" + s.replace("'", "'\\''") + "'";
    }

    // ---- volumes

    private void prepareVolumes() throws IOException {
        Long fsGroup = podSecurity().getFsGroup();
        for (Volume v : pod.getSpec().getVolumes() == null ? List.<Volume>of() : pod.getSpec().getVolumes()) {
            Path d;
            if (v.getPersistentVolumeClaim() != null) {
                String claim = v.getPersistentVolumeClaim().getClaimName();
                if (kubelet.api().client().persistentVolumeClaims().inNamespace(pod.getMetadata().getNamespace()).withName(claim).get() == null) {
                    throw new PodObjects.NotReady("persistentvolumeclaim " + claim + " not found");
                }
                d = kubelet.claimDirectory(pod.getMetadata().getNamespace(), claim);
            } else {
                d = dir.resolve("volumes").resolve(v.getName());
            }
            Files.createDirectories(d);
            if (v.getEmptyDir() != null || v.getPersistentVolumeClaim() != null) {
                if (fsGroup != null) {
                    // as the kubelet applies fsGroup: group-owned, group-writable, setgid
                    Sh.must("chgrp", Long.toString(kubelet.mapGid(fsGroup)), d.toString());
                    Sh.must("chmod", "2775", d.toString());
                } else {
                    Sh.must("chmod", "1777", d.toString());
                }
            } else if (v.getSecret() == null && v.getConfigMap() == null && v.getProjected() == null && v.getDownwardAPI() == null) {
                throw new IllegalArgumentException("volume " + v.getName() + ": only emptyDir, persistentVolumeClaim, secret, configMap, "
                        + "projected and downwardAPI are supported");
            }
            volumeDirs.put(v.getName(), d);
        }
        refreshVolumes(pod);
    }

    /** Writes the Secret, ConfigMap and downward-API volumes from the API server's current objects (files change by rename). */
    void refreshVolumes(Pod current) {
        String ns = pod.getMetadata().getNamespace();
        for (Volume v : pod.getSpec().getVolumes() == null ? List.<Volume>of() : pod.getSpec().getVolumes()) {
            Map<String, byte[]> files = new TreeMap<>();
            Integer mode;
            if (v.getSecret() != null) {
                files.putAll(PodObjects.items(kubelet.objects().secret(ns, v.getSecret().getSecretName()), v.getSecret().getItems(),
                        "secret " + v.getSecret().getSecretName()));
                mode = v.getSecret().getDefaultMode();
            } else if (v.getConfigMap() != null) {
                files.putAll(PodObjects.items(kubelet.objects().configMap(ns, v.getConfigMap().getName()), v.getConfigMap().getItems(),
                        "configmap " + v.getConfigMap().getName()));
                mode = v.getConfigMap().getDefaultMode();
            } else if (v.getDownwardAPI() != null) {
                files.putAll(downward(current, v.getDownwardAPI().getItems()));
                mode = v.getDownwardAPI().getDefaultMode();
            } else if (v.getProjected() != null) {
                for (VolumeProjection s : v.getProjected().getSources()) {
                    if (s.getSecret() != null) {
                        files.putAll(PodObjects.items(kubelet.objects().secret(ns, s.getSecret().getName()), s.getSecret().getItems(),
                                "secret " + s.getSecret().getName()));
                    } else if (s.getConfigMap() != null) {
                        files.putAll(PodObjects.items(kubelet.objects().configMap(ns, s.getConfigMap().getName()), s.getConfigMap().getItems(),
                                "configmap " + s.getConfigMap().getName()));
                    } else if (s.getDownwardAPI() != null) {
                        files.putAll(downward(current, s.getDownwardAPI().getItems()));
                    } else {
                        throw new IllegalArgumentException("volume " + v.getName() + ": a projected source the test kubelet does not support");
                    }
                }
                mode = v.getProjected().getDefaultMode();
            } else {
                continue;
            }
            writeFiles(volumeDirs.get(v.getName()), files, mode == null ? 0644 : mode);
        }
    }

    private static Map<String, byte[]> downward(Pod current, List<DownwardAPIVolumeFile> items) {
        Map<String, byte[]> files = new TreeMap<>();
        for (DownwardAPIVolumeFile f : items) {
            if (f.getFieldRef() == null) {
                throw new IllegalArgumentException("downwardAPI " + f.getPath() + ": only fieldRef is supported");
            }
            files.put(f.getPath(), PodObjects.field(current, f.getFieldRef().getFieldPath()).getBytes(StandardCharsets.UTF_8));
        }
        return files;
    }

    /** Puts the files in place, each replaced by rename only when its content changed; files no longer listed go. */
    private void writeFiles(Path d, Map<String, byte[]> files, int mode) {
        Long fsGroup = podSecurity().getFsGroup();
        // read-only volume files: with an fsGroup the kubelet makes them owner- and group-readable, group fsGroup
        int effective = fsGroup == null ? mode : mode | 0440;
        try {
            for (Map.Entry<String, byte[]> e : files.entrySet()) {
                Path target = d.resolve(e.getKey());
                if (Files.isRegularFile(target) && Arrays.equals(Files.readAllBytes(target), e.getValue())) {
                    continue;
                }
                Files.createDirectories(target.getParent());
                Path tmp = target.resolveSibling(".tmp-" + target.getFileName());
                Files.write(tmp, e.getValue());
                Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString(perm(effective)));
                if (fsGroup != null) {
                    Sh.must("chgrp", Long.toString(kubelet.mapGid(fsGroup)), tmp.toString());
                }
                Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            }
            try (Stream<Path> present = Files.list(d)) {
                for (Path p : present.toList()) {
                    if (Files.isRegularFile(p) && !files.containsKey(p.getFileName().toString())) {
                        Files.delete(p);
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String perm(int mode) {
        StringBuilder b = new StringBuilder();
        String rwx = "rwx";
        for (int i = 8; i >= 0; i--) {
            b.append((mode & (1 << i)) != 0 ? rwx.charAt(2 - i % 3) : '-');
        }
        return b.toString();
    }

    private void writeServiceAccount() throws IOException {
        Path sa = dir.resolve("serviceaccount");
        Files.createDirectories(sa);
        Files.copy(kubelet.api().caCertificate(), sa.resolve("ca.crt"), StandardCopyOption.REPLACE_EXISTING);
        // the mock API server authenticates nobody: the token only has to be there, as a pod's client reads it
        Files.writeString(sa.resolve("token"), "pgha-e2e-token-" + pod.getSpec().getServiceAccountName());
        Files.writeString(sa.resolve("namespace"), pod.getMetadata().getNamespace());
        for (String f : List.of("ca.crt", "token", "namespace")) {
            Files.setPosixFilePermissions(sa.resolve(f), PosixFilePermissions.fromString("rw-r--r--"));
        }
    }

    // ---- status

    PodStatus status() {
        boolean allStarted = runners.stream().allMatch(ContainerRunner::hasStarted);
        boolean allReady = !runners.isEmpty() && !terminating && runners.stream().allMatch(ContainerRunner::ready);
        condition("PodScheduled", true);
        condition("Initialized", true);
        condition("ContainersReady", allReady);
        condition("Ready", allReady);
        return new PodStatusBuilder()
                .withPhase(allStarted ? "Running" : "Pending")
                .withHostIP(NodeNetwork.GATEWAY)
                .withPodIP(sandbox.ip())
                .addNewPodIP().withIp(sandbox.ip()).endPodIP()
                .withStartTime(startTime.toString())
                .withConditions(new ArrayList<>(conditions.values()))
                .withContainerStatuses(runners.stream().map(ContainerRunner::status).toList())
                .build();
    }

    private void condition(String type, boolean value) {
        String status = value ? "True" : "False";
        PodCondition old = conditions.get(type);
        if (old == null || !old.getStatus().equals(status)) {
            conditions.put(type, new PodConditionBuilder().withType(type).withStatus(status)
                    .withLastTransitionTime(Instant.now().toString()).build());
        }
    }
}
