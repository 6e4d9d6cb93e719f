package io.pgha.monitor.kubernetes;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.pgha.api.ClusterNames;
import io.pgha.api.Labels;
import io.pgha.api.PrimaryIsolation;
import io.pgha.monitor.service.Fencer;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Fencing on Kubernetes: the old primary is taken out of the read-write service, then its pod is
 * deleted.
 *
 * <ol>
 *   <li>Its role label becomes standby, so the -rw service stops selecting it at once: no new
 *   connection reaches it through the service.</li>
 *   <li>Its pod is deleted. Planned (switchover): with the pod's grace period; the postgres
 *   image stops the server with SIGINT, a fast shutdown, which hands every WAL record to the
 *   connected standbys before it exits. Failover: with a grace period of one second, after which
 *   the kubelet kills it. The provisioner then recreates the pod labelled standby (fenced
 *   instances are never labelled primary), and bootstrap.sh starts a former primary's data
 *   directory only as a standby: it rewinds (or re-clones) it onto the current primary.</li>
 *   <li>When the instance still answers, the fence is done only once the pod is gone (the kubelet
 *   confirmed the container stopped). When it does not answer, its node may be cut off and never
 *   confirm: the fence waits for the pod to go for at most {@link PrimaryIsolation#unconfirmedFenceWait()},
 *   and then counts as done. A primary cut off from the API server has stopped its own server by
 *   then (bootstrap.sh {@code live} cannot prove API access, see {@link PrimaryIsolation}), so the
 *   promotion that follows never runs next to a primary still taking writes.</li>
 * </ol>
 *
 * The end of the old primary's WAL is not known here (pg_controldata would have to run inside the
 * pod). After a planned stop the fence reports instead whether the server exited cleanly (exit
 * code 0 in the pod's last status before it went): PostgreSQL does so only once its WAL senders
 * handed every record to the standbys streaming from it, so what the switchover target received is
 * the end ({@link Fencer.Result#handedOver()}).
 */
final class KubernetesFencer implements Fencer {
    /** The instance pods' termination grace period is 60 s; this leaves the kubelet some slack. */
    static final Duration CLEAN_WAIT = Duration.ofSeconds(90);
    static final Duration KILL_WAIT = Duration.ofSeconds(30);

    private final KubernetesClient client;
    private final String namespace;
    private final Duration unconfirmedWait;

    KubernetesFencer(KubernetesClient client, String namespace) {
        this(client, namespace, PrimaryIsolation.unconfirmedFenceWait());
    }

    /** {@code unconfirmedWait}: how long an unanswering primary's pod deletion may go unconfirmed (tests shorten it). */
    KubernetesFencer(KubernetesClient client, String namespace, Duration unconfirmedWait) {
        this.client = client;
        this.namespace = namespace;
        this.unconfirmedWait = unconfirmedWait;
    }

    @Override
    public Result fence(String instance, boolean clean, boolean answers, Demotion demotion) {
        var resource = client.pods().inNamespace(namespace).withName(instance);
        Pod pod = resource.get();
        if (pod == null) {
            return new Result(true, null, "pod " + instance + " does not exist");
        }
        if (!Labels.ROLE_STANDBY.equals(pod.getMetadata().getLabels().get(Labels.ROLE))) {
            KubernetesRoles.label(client, namespace, instance, Labels.ROLE_STANDBY);
        }
        String uid = pod.getMetadata().getUid();
        boolean unconfirmable = !clean && !answers;
        Duration wait = clean ? CLEAN_WAIT : unconfirmable ? unconfirmedWait : KILL_WAIT;
        PodEnd end = new PodEnd(uid, pod);
        // watching before the deletion, so the pod's last status and its going cannot slip between them
        boolean gone;
        try (var watch = resource.inform(end)) {
            if (watch.getStore().list().stream().noneMatch(p -> uid.equals(p.getMetadata().getUid()))) {
                end.gone.countDown();
            }
            if (clean) {
                resource.delete();
            } else {
                resource.withGracePeriod(1).delete();
            }
            gone = end.gone.await(wait.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Result(false, null, "out of the read-write service, interrupted while pod " + instance + " was deleted");
        }
        if (!gone) {
            if (unconfirmable) {
                return new Result(true, null, "out of the read-write service, pod deletion requested and not confirmed within "
                        + wait.toSeconds() + " s (it does not answer): cut off from the API server, it has stopped itself by now");
            }
            return new Result(false, null, "out of the read-write service, but pod " + instance + " still runs after "
                    + wait.toSeconds() + " s");
        }
        if (!clean) {
            return new Result(true, null, "out of the read-write service, pod deleted");
        }
        Integer exit = exitCode(end.lastSeen.get());
        return new Result(true, null, "out of the read-write service, pod deleted, postgres exited with "
                + (exit == null ? "an unknown code" : "code " + exit), Integer.valueOf(0).equals(exit));
    }

    /** Follows one pod (by uid) to its end: gone, or replaced by a pod of the same name and another uid. */
    private static final class PodEnd implements ResourceEventHandler<Pod> {
        final CountDownLatch gone = new CountDownLatch(1);
        final AtomicReference<Pod> lastSeen;
        private final String uid;

        PodEnd(String uid, Pod pod) {
            this.uid = uid;
            this.lastSeen = new AtomicReference<>(pod);
        }

        @Override
        public void onAdd(Pod pod) {
            seen(pod);
        }

        @Override
        public void onUpdate(Pod before, Pod pod) {
            seen(pod);
        }

        @Override
        public void onDelete(Pod pod, boolean finalStateUnknown) {
            if (uid.equals(pod.getMetadata().getUid())) {
                gone.countDown();
            }
        }

        private void seen(Pod pod) {
            if (uid.equals(pod.getMetadata().getUid())) {
                lastSeen.set(pod);
            } else {
                gone.countDown();
            }
        }
    }

    /** The exit code of the PostgreSQL container as the pod's status last showed it, if it had stopped. */
    static Integer exitCode(Pod pod) {
        if (pod.getStatus() == null || pod.getStatus().getContainerStatuses() == null) {
            return null;
        }
        return pod.getStatus().getContainerStatuses().stream()
                .filter(c -> ClusterNames.INSTANCE_CONTAINER.equals(c.getName()) && c.getState() != null && c.getState().getTerminated() != null)
                .map(c -> c.getState().getTerminated().getExitCode()).findFirst().orElse(null);
    }
}
