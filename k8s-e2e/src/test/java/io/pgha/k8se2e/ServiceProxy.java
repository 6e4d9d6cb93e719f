package io.pgha.k8se2e;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServicePort;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * kube-proxy and cluster DNS for the test node. Each Service gets a cluster IP on the node and,
 * per port, a userspace proxy (socat in the node's network namespace) that sends each new
 * connection to one of the Ready pods its selector picks, read from an endpoints file at connect
 * time; a connection already made stays where it is when the endpoints change. With no Ready pod
 * nothing listens, so a connection is refused, as kube-proxy rejects it. Names resolve through a
 * per-namespace /etc/hosts that every pod of the namespace has bind-mounted (short names for the
 * pod's own namespace, qualified names for all), rewritten in place so that running pods see it.
 */
final class ServiceProxy implements AutoCloseable {
    private static final String CLUSTER_DOMAIN = "svc.cluster.local";

    private final NodeNetwork network;
    private final Path dir;
    private final Path connectScript;
    private final Map<String, String> clusterIps = new HashMap<>();
    private final Map<String, Process> listeners = new HashMap<>();
    private final Map<String, String> endpointsWritten = new HashMap<>();
    private final Map<String, String> hostsWritten = new HashMap<>();

    ServiceProxy(NodeNetwork network, Path dir) {
        this.network = network;
        this.dir = dir;
        try {
            Files.createDirectories(dir);
            connectScript = dir.resolve("connect.sh");
            Files.writeString(connectScript, """
                    # one connection through a Service: to one endpoint picked at random, as kube-proxy does
                    ep=$(shuf -n 1 "$1") && [ -n "$ep" ] || exit 1
                    exec socat STDIO "TCP:$ep,connect-timeout=5"
                    """);
            Files.writeString(dir.resolve("resolv.conf"), "# the test node has no DNS server: names are in /etc/hosts\n"
                    + "nameserver 127.0.0.1\noptions timeout:1 attempts:1\n");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    Path resolvConf() {
        return dir.resolve("resolv.conf");
    }

    /** The /etc/hosts of the pods of a namespace (created empty of Services until the first sync). */
    synchronized Path hostsFile(String namespace) {
        Path file = dir.resolve("hosts-" + namespace);
        if (!Files.exists(file)) {
            writeInPlace(file, hosts(namespace));
            hostsWritten.put(namespace, hosts(namespace));
        }
        return file;
    }

    /** A Service's cluster IP (for clients the test runs in the node namespace). */
    synchronized String clusterIp(String namespace, String name) {
        String ip = clusterIps.get(namespace + "/" + name);
        if (ip == null) {
            throw new IllegalStateException("service " + namespace + "/" + name + " has no cluster IP yet");
        }
        return ip;
    }

    synchronized void sync(List<Service> services, List<Pod> pods) {
        Set<String> live = new HashSet<>();
        for (Service s : services) {
            if ("None".equals(s.getSpec().getClusterIP()) || s.getSpec().getSelector() == null || s.getSpec().getPorts() == null) {
                continue;
            }
            String ns = s.getMetadata().getNamespace();
            String ip = clusterIps.computeIfAbsent(ns + "/" + s.getMetadata().getName(), k -> network.allocateServiceIp());
            List<Pod> ready = pods.stream().filter(p -> ns.equals(p.getMetadata().getNamespace())
                    && p.getMetadata().getDeletionTimestamp() == null && DeploymentController.ready(p)
                    && p.getStatus().getPodIP() != null && selects(s.getSpec().getSelector(), p)).toList();
            for (ServicePort port : s.getSpec().getPorts()) {
                String key = ns + "_" + s.getMetadata().getName() + "_" + port.getPort();
                live.add(key);
                StringBuilder endpoints = new StringBuilder();
                for (Pod p : ready) {
                    Integer target = targetPort(port, p);
                    if (target != null) {
                        endpoints.append(p.getStatus().getPodIP()).append(':').append(target).append('\n');
                    }
                }
                Path file = dir.resolve(key + ".endpoints");
                if (!endpoints.toString().equals(endpointsWritten.get(key))) {
                    replace(file, endpoints.toString());
                    endpointsWritten.put(key, endpoints.toString());
                }
                Process listener = listeners.get(key);
                if (endpoints.isEmpty() && listener != null) {
                    // only the listener goes: the forked children carry established connections on
                    listener.destroy();
                    listeners.remove(key);
                } else if (!endpoints.isEmpty() && (listener == null || !listener.isAlive())) {
                    listeners.put(key, ApiServer.start(List.of("ip", "netns", "exec", network.nodeNamespace(), "socat",
                            "TCP-LISTEN:" + port.getPort() + ",bind=" + ip + ",reuseaddr,fork",
                            "EXEC:/bin/sh " + connectScript + " " + file), dir.resolve(key + ".log")));
                }
            }
        }
        for (String key : List.copyOf(listeners.keySet())) {
            if (!live.contains(key)) {
                listeners.remove(key).destroy();
            }
        }
        Set<String> namespaces = new HashSet<>(hostsWritten.keySet());
        for (String ns : namespaces) {
            String content = hosts(ns);
            if (!content.equals(hostsWritten.get(ns))) {
                writeInPlace(dir.resolve("hosts-" + ns), content);
                hostsWritten.put(ns, content);
            }
        }
    }

    private String hosts(String namespace) {
        StringBuilder b = new StringBuilder("127.0.0.1\tlocalhost\n::1\tlocalhost\n");
        b.append(NodeNetwork.API_SERVICE_IP).append("\tkubernetes.default.").append(CLUSTER_DOMAIN)
                .append(" kubernetes.default.svc kubernetes.default");
        if (namespace.equals("default")) {
            b.append(" kubernetes");
        }
        b.append('\n');
        new TreeMap<>(clusterIps).forEach((key, ip) -> {
            String ns = key.substring(0, key.indexOf('/'));
            String name = key.substring(key.indexOf('/') + 1);
            b.append(ip).append('\t').append(name).append('.').append(ns).append('.').append(CLUSTER_DOMAIN)
                    .append(' ').append(name).append('.').append(ns).append(".svc ").append(name).append('.').append(ns);
            if (ns.equals(namespace)) {
                b.append(' ').append(name);
            }
            b.append('\n');
        });
        return b.toString();
    }

    private static boolean selects(Map<String, String> selector, Pod p) {
        Map<String, String> labels = p.getMetadata().getLabels();
        return labels != null && selector.entrySet().stream().allMatch(e -> e.getValue().equals(labels.get(e.getKey())));
    }

    private static Integer targetPort(ServicePort port, Pod p) {
        IntOrString target = port.getTargetPort();
        if (target == null) {
            return port.getPort();
        }
        if (target.getIntVal() != null) {
            return target.getIntVal();
        }
        for (Container c : p.getSpec().getContainers()) {
            for (ContainerPort cp : c.getPorts() == null ? List.<ContainerPort>of() : c.getPorts()) {
                if (target.getStrVal().equals(cp.getName())) {
                    return cp.getContainerPort();
                }
            }
        }
        return null;
    }

    private static void replace(Path file, String content) {
        try {
            Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
            Files.writeString(tmp, content);
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Rewrites a bind-mounted file through the same inode: a rename would leave the pods' mounts on the old one. */
    private static void writeInPlace(Path file, String content) {
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            byte[] bytes = content.getBytes(StandardCharsets.UTF_8);
            f.setLength(0);
            f.write(bytes);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        file.toFile().setReadable(true, false);
    }

    @Override
    public synchronized void close() {
        listeners.values().forEach(ApiServer::stop);
        listeners.clear();
    }
}
