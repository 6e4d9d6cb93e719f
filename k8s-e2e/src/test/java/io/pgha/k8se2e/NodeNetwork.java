package io.pgha.k8se2e;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The network of the one test node: a "node" network namespace holding a bridge (the pod network
 * 10.244.0.0/16, gateway 10.244.0.1) and the Service cluster IPs (10.96.0.0/16, where the
 * kube-proxy stand-in listens), and one network namespace per pod joined to the bridge by a veth
 * pair. Every address lives only inside namespaces this class creates; the host's own network
 * namespace gets no interface and no route.
 */
final class NodeNetwork implements AutoCloseable {
    static final String GATEWAY = "10.244.0.1";
    static final int POD_PREFIX = 16;
    /** The address of the {@code kubernetes} Service, where each pod's relay to the API server listens. */
    static final String API_SERVICE_IP = "10.96.0.1";
    static final int API_SERVICE_PORT = 443;
    private static final String BRIDGE = "br0";

    private final String prefix;
    private final String node;
    private final AtomicInteger nextPod = new AtomicInteger(10);
    private final AtomicInteger nextService = new AtomicInteger(10);
    private final List<String> podNamespaces = new ArrayList<>();

    /** @param prefix a short run id: namespace and interface names start with it, so that runs never collide */
    NodeNetwork(String prefix) {
        this.prefix = prefix;
        this.node = prefix + "-node";
        Sh.must("ip", "netns", "add", node);
        Sh.must("ip", "-n", node, "link", "set", "lo", "up");
        Sh.must("ip", "-n", node, "link", "add", BRIDGE, "type", "bridge");
        Sh.must("ip", "-n", node, "addr", "add", GATEWAY + "/" + POD_PREFIX, "dev", BRIDGE);
        Sh.must("ip", "-n", node, "link", "set", BRIDGE, "up");
    }

    /** The node namespace: where probes and Service proxies run, as a kubelet and kube-proxy would on the node. */
    String nodeNamespace() {
        return node;
    }

    /** A pod's sandbox: its own namespace with eth0 on the bridge, loopback, and the API service address. */
    record Sandbox(String namespace, String ip, String hostVeth) {
    }

    synchronized Sandbox addPod() {
        int n = nextPod.getAndIncrement();
        String ns = prefix + "-p" + n;
        String ip = "10.244." + (n / 250) + "." + (n % 250 + 2);
        String veth = prefix.substring(prefix.length() - 4) + "v" + n;
        Sh.must("ip", "netns", "add", ns);
        podNamespaces.add(ns);
        Sh.must("ip", "-n", node, "link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", ns);
        Sh.must("ip", "-n", node, "link", "set", veth, "master", BRIDGE, "up");
        Sh.must("ip", "-n", ns, "link", "set", "lo", "up");
        Sh.must("ip", "-n", ns, "addr", "add", ip + "/" + POD_PREFIX, "dev", "eth0");
        Sh.must("ip", "-n", ns, "link", "set", "eth0", "up");
        Sh.must("ip", "-n", ns, "route", "add", "default", "via", GATEWAY);
        Sh.must("ip", "-n", ns, "addr", "add", API_SERVICE_IP + "/32", "dev", "lo");
        return new Sandbox(ns, ip, veth);
    }

    synchronized void removePod(Sandbox sandbox) {
        Sh.quietly("ip", "-n", node, "link", "del", sandbox.hostVeth());
        Sh.quietly("ip", "netns", "del", sandbox.namespace());
        podNamespaces.remove(sandbox.namespace());
    }

    /** Cuts a pod off from every other pod and Service (its bridge port goes down), or joins it again. */
    void setPodLink(Sandbox sandbox, boolean up) {
        Sh.must("ip", "-n", node, "link", "set", sandbox.hostVeth(), up ? "up" : "down");
    }

    /** A new Service cluster IP, configured on the node's bridge so that the node's proxies can bind it. */
    String allocateServiceIp() {
        int n = nextService.getAndIncrement();
        String ip = "10.96." + (n / 250) + "." + (n % 250 + 2);
        Sh.must("ip", "-n", node, "addr", "add", ip + "/32", "dev", BRIDGE);
        return ip;
    }

    @Override
    public synchronized void close() {
        for (String ns : List.copyOf(podNamespaces)) {
            Sh.quietly("ip", "netns", "del", ns);
        }
        Sh.quietly("ip", "netns", "del", node);
    }
}
