package io.pgha.k8se2e;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.ContainerState;
import io.fabric8.kubernetes.api.model.ContainerStateBuilder;
import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.ContainerStatusBuilder;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.Probe;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * One container of a running pod: starts its process in the pod's namespaces, runs its startup,
 * readiness and liveness probes as declared, restarts it when it exits or fails liveness (restart
 * policy Always, with a back-off), and reports its state as a ContainerStatus.
 */
final class ContainerRunner implements Runnable {
    /** The back-off before a restart, doubled per restart up to the maximum (the kubelet's is 10 s to 5 min). */
    static final long BACKOFF_INITIAL_MS = 10_000;
    static final long BACKOFF_MAX_MS = 80_000;
    private static final long TICK_MS = 200;

    private final RunningPod pod;
    private final Container container;
    private final Images.Image image;
    private final Path log;
    private volatile boolean stopping;
    private volatile Process process;
    private volatile boolean ready;
    private volatile boolean started;
    private volatile int restarts;
    private volatile ContainerState state = new ContainerStateBuilder().withNewWaiting().withReason("ContainerCreating").endWaiting().build();
    private volatile ContainerState lastState;
    private volatile Map<String, String> env;

    ContainerRunner(RunningPod pod, Container container, Images.Image image, Path log) {
        this.pod = pod;
        this.container = container;
        this.image = image;
        this.log = log;
    }

    String name() {
        return container.getName();
    }

    boolean ready() {
        return ready;
    }

    boolean hasStarted() {
        return started || restarts > 0;
    }

    @Override
    public void run() {
        long backoff = BACKOFF_INITIAL_MS;
        while (!stopping) {
            Instant begin = Instant.now();
            try {
                env = pod.environment(container, image);
                process = pod.launch(container, image, env, log);
            } catch (PodObjects.NotReady | IllegalArgumentException e) {
                state = new ContainerStateBuilder().withNewWaiting().withReason("CreateContainerConfigError").withMessage(e.getMessage())
                        .endWaiting().build();
                pod.log(container.getName() + ": " + e.getMessage());
                pauseUnlessStopping(2_000);
                continue;
            }
            state = new ContainerStateBuilder().withNewRunning().withStartedAt(Instant.now().toString()).endRunning().build();
            String reason = supervise();
            int exit = stopProcess();
            lastState = new ContainerStateBuilder().withNewTerminated().withExitCode(exit).withReason(reason)
                    .withStartedAt(begin.toString()).withFinishedAt(Instant.now().toString()).endTerminated().build();
            state = lastState;
            ready = false;
            started = false;
            if (stopping) {
                break;
            }
            restarts++;
            pod.log(container.getName() + ": " + reason + " (exit " + exit + "), restart " + restarts + " in " + backoff / 1000 + " s");
            state = new ContainerStateBuilder().withNewWaiting().withReason("CrashLoopBackOff").endWaiting().build();
            pauseUnlessStopping(backoff);
            backoff = Math.min(backoff * 2, BACKOFF_MAX_MS);
        }
    }

    /** Watches the process and runs the probes until it exits, fails liveness, or the pod stops: the reason it ended. */
    private String supervise() {
        ProbeSchedule startup = new ProbeSchedule(container.getStartupProbe());
        ProbeSchedule readiness = new ProbeSchedule(container.getReadinessProbe());
        ProbeSchedule liveness = new ProbeSchedule(container.getLivenessProbe());
        long t0 = System.nanoTime();
        startup.restart(0);
        while (!stopping) {
            if (!process.isAlive()) {
                return process.exitValue() == 0 ? "Completed" : "Error";
            }
            long now = System.nanoTime() - t0;
            if (!started) {
                if (startup.probe == null) {
                    started = true;
                } else if (startup.due(now)) {
                    Boolean r = startup.record(probe(startup.probe));
                    if (Boolean.TRUE.equals(r)) {
                        started = true;
                    } else if (Boolean.FALSE.equals(r)) {
                        return "StartupProbeFailed";
                    }
                }
                if (started) {
                    readiness.restart(now);
                    liveness.restart(now);
                }
            } else {
                if (readiness.probe == null) {
                    ready = true;
                } else if (readiness.due(now)) {
                    Boolean r = readiness.record(probe(readiness.probe));
                    if (r != null) {
                        ready = r;
                    }
                }
                if (liveness.probe != null && liveness.due(now) && Boolean.FALSE.equals(liveness.record(probe(liveness.probe)))) {
                    pod.log(container.getName() + ": liveness probe failed " + liveness.probe.getFailureThreshold() + " times");
                    return "LivenessProbeFailed";
                }
            }
            pause(TICK_MS);
        }
        return "Killed";
    }

    /** The schedule and consecutive results of one probe; record() says when a threshold is crossed. */
    private static final class ProbeSchedule {
        final Probe probe;
        long next;
        int successes;
        int failures;

        ProbeSchedule(Probe probe) {
            this.probe = probe;
        }

        /**
         * The first probe after the initial delay, at a random point of the first period: the
         * kubelet's probe worker ticks on its own clock, not the container's start.
         */
        void restart(long now) {
            if (probe != null) {
                long period = TimeUnit.SECONDS.toNanos(or(probe.getPeriodSeconds(), 10));
                next = now + TimeUnit.SECONDS.toNanos(or(probe.getInitialDelaySeconds(), 0))
                        + ThreadLocalRandom.current().nextLong(period);
            }
        }

        boolean due(long now) {
            if (now < next) {
                return false;
            }
            next = now + TimeUnit.SECONDS.toNanos(or(probe.getPeriodSeconds(), 10));
            return true;
        }

        /** TRUE once successThreshold passes in a row, FALSE once failureThreshold failures in a row, else null. */
        Boolean record(boolean ok) {
            if (ok) {
                failures = 0;
                return ++successes >= or(probe.getSuccessThreshold(), 1) ? Boolean.TRUE : null;
            }
            successes = 0;
            return ++failures >= or(probe.getFailureThreshold(), 3) ? Boolean.FALSE : null;
        }
    }

    static int or(Integer v, int dflt) {
        return v == null ? dflt : v;
    }

    private boolean probe(Probe p) {
        int timeout = or(p.getTimeoutSeconds(), 1);
        List<String> command;
        if (p.getExec() != null) {
            command = pod.execCommand(process.pid(), p.getExec().getCommand());
        } else if (p.getHttpGet() != null) {
            int port = port(p.getHttpGet().getPort());
            String path = p.getHttpGet().getPath() == null ? "/" : p.getHttpGet().getPath();
            // scheme HTTPS: over TLS, and like a kubelet without checking the certificate (it has no CA to check it against)
            boolean https = "HTTPS".equals(p.getHttpGet().getScheme());
            List<String> curl = new ArrayList<>(List.of("curl", "-s", "-o", "/dev/null", "-m", Integer.toString(timeout), "-w", "%{http_code}"));
            if (https) {
                curl.add("-k");
            }
            curl.add((https ? "https://" : "http://") + pod.ip() + ":" + port + path);
            command = pod.fromNode(curl);
        } else if (p.getTcpSocket() != null) {
            command = pod.fromNode(List.of("/bin/bash", "-c", "exec 3<>/dev/tcp/" + pod.ip() + "/" + port(p.getTcpSocket().getPort())));
        } else {
            throw new IllegalArgumentException(container.getName() + ": a probe with neither exec, httpGet nor tcpSocket");
        }
        try {
            ProcessBuilder b = new ProcessBuilder(command).redirectErrorStream(true);
            if (p.getExec() != null) {
                b.environment().clear();
                b.environment().putAll(env);
            }
            Process probe = b.start();
            probe.getOutputStream().close();
            if (!probe.waitFor(timeout + 1L, TimeUnit.SECONDS)) {
                probe.descendants().forEach(ProcessHandle::destroyForcibly);
                probe.destroyForcibly();
                return false;
            }
            String out = new String(probe.getInputStream().readAllBytes()).strip();
            if (p.getHttpGet() != null) {
                return out.matches("[23]\\d\\d");
            }
            return probe.exitValue() == 0;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** A probe's port: a number, or the name of one of the container's ports. */
    private int port(IntOrString port) {
        if (port.getIntVal() != null) {
            return port.getIntVal();
        }
        for (ContainerPort p : container.getPorts()) {
            if (port.getStrVal().equals(p.getName())) {
                return p.getContainerPort();
            }
        }
        throw new IllegalArgumentException(container.getName() + " has no port named " + port.getStrVal());
    }

    /** The container's signal (the image's STOPSIGNAL), then SIGKILL to all it runs after the grace period. */
    private int stopProcess() {
        Process p = process;
        if (p.isAlive()) {
            Sh.quietly("kill", "-" + image.stopSignal(), Long.toString(p.pid()));
            try {
                if (!p.waitFor(pod.gracePeriodSeconds(), TimeUnit.SECONDS)) {
                    pod.log(container.getName() + ": still running after the grace period: SIGKILL");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        killAll(p);
        try {
            return p.waitFor();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return 137;
        }
    }

    /** SIGKILL to the process and everything it started, as the container runtime kills a container's cgroup. */
    static void killAll(Process p) {
        List<ProcessHandle> all = new ArrayList<>(p.descendants().toList());
        p.destroyForcibly();
        all.forEach(ProcessHandle::destroyForcibly);
    }

    /** Sends the given signal to the container's main process (as a test's fault). */
    void signal(String signal) {
        Process p = process;
        if (p != null && p.isAlive()) {
            Sh.must("kill", "-" + signal, Long.toString(p.pid()));
        }
    }

    long pid() {
        Process p = process;
        return p == null ? -1 : p.pid();
    }

    /** Stops the container for good: the loop ends after the stop signal, grace period and SIGKILL. */
    void stop() {
        stopping = true;
    }

    ContainerStatus status() {
        ContainerStatusBuilder b = new ContainerStatusBuilder().withName(container.getName()).withImage(container.getImage())
                .withImageID(container.getImage()).withReady(ready).withStarted(started).withRestartCount(restarts).withState(state);
        if (lastState != null) {
            b.withLastState(lastState);
        }
        return b.build();
    }

    private void pauseUnlessStopping(long ms) {
        long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(ms);
        while (!stopping && System.nanoTime() < end) {
            pause(TICK_MS);
        }
    }

    private static void pause(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
