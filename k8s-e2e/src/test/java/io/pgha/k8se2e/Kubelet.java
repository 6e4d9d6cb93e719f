package io.pgha.k8se2e;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodStatus;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Function;

/**
 * The test node's kubelet: every sync it lists the pods of the API server, starts the new ones
 * ({@link RunningPod}), refreshes the volumes of the running ones, writes their status back, and
 * stops the deleted ones. A finalizer of its own holds a deleted pod in the API (with its
 * deletionTimestamp, as the real API server does until the kubelet confirms) while its containers
 * get their stop signal and grace period; a pod of the same name starts only after the old one is gone.
 */
final class Kubelet implements AutoCloseable {
    static final String NODE_NAME = "pgha-e2e-node";
    static final String FINALIZER = "pgha.io/test-kubelet";
    /** The uid and gid pod manifests use for postgres (the official image's); mapped to the local postgres user. */
    static final long IMAGE_POSTGRES_ID = 999;

    private final ApiServer api;
    private final NodeNetwork network;
    private final Images images;
    private final PodObjects objects;
    private final Path dir;
    private final Function<String, Path> hostsFiles;
    private final Path resolvConf;
    private final long postgresUid;
    private final long postgresGid;
    private final Map<String, RunningPod> pods = new ConcurrentHashMap<>();
    private final Set<String> notReadyLogged = ConcurrentHashMap.newKeySet();
    private final ExecutorService stopper = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "kubelet-stop");
        t.setDaemon(true);
        return t;
    });

    Kubelet(ApiServer api, NodeNetwork network, Images images, Path dir, Function<String, Path> hostsFiles, Path resolvConf) {
        this.api = api;
        this.network = network;
        this.images = images;
        this.objects = new PodObjects(api.client());
        this.dir = dir;
        this.hostsFiles = hostsFiles;
        this.resolvConf = resolvConf;
        this.postgresUid = Long.parseLong(Sh.must("id", "-u", "postgres").strip());
        this.postgresGid = Long.parseLong(Sh.must("id", "-g", "postgres").strip());
    }

    ApiServer api() {
        return api;
    }

    NodeNetwork network() {
        return network;
    }

    Images images() {
        return images;
    }

    PodObjects objects() {
        return objects;
    }

    /** The /etc/hosts of the pods of a namespace. */
    Path hostsFile(String namespace) {
        return hostsFiles.apply(namespace);
    }

    Path resolvConf() {
        return resolvConf;
    }

    long mapUid(long uid) {
        return uid == IMAGE_POSTGRES_ID ? postgresUid : uid;
    }

    long mapGid(long gid) {
        return gid == IMAGE_POSTGRES_ID ? postgresGid : gid;
    }

    Path claimDirectory(String namespace, String claim) {
        return dir.resolve("claims").resolve(namespace).resolve(claim);
    }

    /** The running incarnation of a pod, by namespace and name. */
    Optional<RunningPod> pod(String namespace, String name) {
        return pods.values().stream().filter(p -> !p.terminating() && p.key().equals(namespace + "/" + name)).findFirst();
    }

    void sync() {
        KubernetesClient client = api.client();
        List<Pod> all = client.pods().inAnyNamespace().list().getItems();
        Set<String> seen = new HashSet<>();
        for (Pod pod : all) {
            String uid = pod.getMetadata().getUid();
            seen.add(uid);
            RunningPod running = pods.get(uid);
            if (pod.getMetadata().getDeletionTimestamp() != null) {
                if (running == null) {
                    removeFinalizer(pod);
                } else if (!running.terminating()) {
                    stopAsync(running, pod.getMetadata().getDeletionGracePeriodSeconds(), pod);
                }
                continue;
            }
            if (running == null) {
                admit(pod);
            } else if (!running.terminating()) {
                try {
                    if (running.apiReachable()) {
                        running.refreshVolumes(pod);
                    }
                } catch (PodObjects.NotReady e) {
                    log(running.key() + ": volume refresh: " + e.getMessage());
                }
                writeStatus(pod, running.status());
            }
        }
        for (RunningPod running : List.copyOf(pods.values())) {
            if (!seen.contains(running.uid()) && !running.terminating()) {
                // deleted without our finalizer (before we admitted it, or forced): stop it all the same
                stopAsync(running, null, null);
            }
        }
    }

    private void admit(Pod pod) {
        String key = pod.getMetadata().getNamespace() + "/" + pod.getMetadata().getName();
        if (pods.values().stream().anyMatch(p -> p.key().equals(key))) {
            return; // the previous pod of this name is still stopping
        }
        List<String> finalizers = pod.getMetadata().getFinalizers();
        if (finalizers == null || !finalizers.contains(FINALIZER)) {
            api.client().pods().inNamespace(pod.getMetadata().getNamespace()).withName(pod.getMetadata().getName()).edit(p -> {
                if (p.getMetadata().getUid().equals(pod.getMetadata().getUid())) {
                    List<String> f = new ArrayList<>(p.getMetadata().getFinalizers() == null ? List.of() : p.getMetadata().getFinalizers());
                    f.add(FINALIZER);
                    p.getMetadata().setFinalizers(f);
                }
                return p;
            });
        }
        RunningPod running = new RunningPod(this, pod, dir.resolve("pods").resolve(pod.getMetadata().getNamespace() + "_"
                + pod.getMetadata().getName() + "_" + pod.getMetadata().getUid()));
        try {
            running.start();
            pods.put(pod.getMetadata().getUid(), running);
            notReadyLogged.remove(pod.getMetadata().getUid());
        } catch (PodObjects.NotReady | IllegalArgumentException | IllegalStateException e) {
            if (notReadyLogged.add(pod.getMetadata().getUid())) {
                log(key + ": not started: " + e.getMessage());
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Marks the pod terminating at once; its containers stop (grace period and all) on a thread of their own. */
    private void stopAsync(RunningPod running, Long grace, Pod deleted) {
        running.markTerminating();
        log(running.key() + ": deleted: stopping its containers");
        stopper.submit(() -> {
            try {
                running.stop(grace);
                if (deleted != null) {
                    writeStatus(deleted, running.status());
                    removeFinalizer(deleted);
                }
            } catch (RuntimeException e) {
                log(running.key() + ": stopping failed: " + e);
            } finally {
                pods.remove(running.uid());
            }
        });
    }

    private void writeStatus(Pod pod, PodStatus status) {
        if (status.equals(pod.getStatus())) {
            return;
        }
        try {
            api.client().pods().inNamespace(pod.getMetadata().getNamespace()).withName(pod.getMetadata().getName()).editStatus(p -> {
                if (p.getMetadata().getUid().equals(pod.getMetadata().getUid())) {
                    p.setStatus(status);
                }
                return p;
            });
        } catch (KubernetesClientException e) {
            log(pod.getMetadata().getName() + ": status not written: " + e.getMessage());
        }
    }

    private void removeFinalizer(Pod pod) {
        if (pod.getMetadata().getFinalizers() == null || !pod.getMetadata().getFinalizers().contains(FINALIZER)) {
            return;
        }
        try {
            api.client().pods().inNamespace(pod.getMetadata().getNamespace()).withName(pod.getMetadata().getName()).edit(p -> {
                if (p.getMetadata().getUid().equals(pod.getMetadata().getUid()) && p.getMetadata().getFinalizers() != null) {
                    List<String> f = new ArrayList<>(p.getMetadata().getFinalizers());
                    f.remove(FINALIZER);
                    p.getMetadata().setFinalizers(f);
                }
                return p;
            });
        } catch (KubernetesClientException e) {
            log(pod.getMetadata().getName() + ": finalizer not removed: " + e.getMessage());
        }
    }

    synchronized void log(String message) {
        try {
            Files.writeString(dir.resolve("kubelet.log"), Instant.now() + " " + message + "\n",
                    StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void close() {
        for (RunningPod running : List.copyOf(pods.values())) {
            running.stop(0L);
        }
        stopper.shutdownNow();
    }
}
