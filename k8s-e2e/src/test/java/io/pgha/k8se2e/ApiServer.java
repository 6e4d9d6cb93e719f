package io.pgha.k8se2e;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;

/**
 * The API server of the test cluster: the fabric8 mock server in CRUD mode on host loopback (plain
 * HTTP), exposed on a unix socket that pods reach through a relay in their own network namespace.
 * The relay listens on the {@code kubernetes} Service address with TLS under a CA of this run, so a
 * pod's in-cluster client finds the API server exactly where a real one would be: at
 * KUBERNETES_SERVICE_HOST:443, trusting the ca.crt of its service-account mount.
 */
final class ApiServer implements AutoCloseable {
    private final KubernetesMockServer server;
    private final KubernetesClient client;
    private final Path dir;
    private final Path socket;
    private final Process socketBridge;

    ApiServer(Path dir) {
        this.dir = dir;
        // kubectl (the kubectl-pgha plugin's tests) needs discovery, which the CRUD dispatcher lacks
        server = new KubernetesMockServer(new Context(), new MockWebServer(), new HashMap<>(),
                new Discovery(new KubernetesCrudDispatcher(List.of())), false);
        server.init(InetAddress.getLoopbackAddress(), 0);
        client = server.createClient();
        writeCertificates();
        socket = dir.resolve("api.sock");
        socketBridge = start(List.of("socat", "UNIX-LISTEN:" + socket + ",fork,unlink-early",
                "TCP:127.0.0.1:" + server.getPort()), dir.resolve("api-bridge.log"));
    }

    KubernetesClient client() {
        return client;
    }

    /** The API server's address on host loopback, plain HTTP: where kubectl on the node reaches it. */
    String url() {
        return "http://127.0.0.1:" + server.getPort();
    }

    Path caCertificate() {
        return dir.resolve("ca.crt");
    }

    /**
     * Starts a pod's relay to the API server inside its network namespace; stopping it (and the
     * connections it carries) is how a pod is cut off from the control plane.
     */
    Process startRelay(String netns, Path log) {
        return start(List.of("ip", "netns", "exec", netns, "socat",
                "OPENSSL-LISTEN:" + NodeNetwork.API_SERVICE_PORT + ",bind=" + NodeNetwork.API_SERVICE_IP
                        + ",reuseaddr,fork,verify=0,cert=" + dir.resolve("api.pem"),
                "UNIX-CONNECT:" + socket), log);
    }

    /** A relay and every connection it carries (its forked children). */
    static void stop(Process relay) {
        relay.descendants().forEach(ProcessHandle::destroyForcibly);
        relay.destroyForcibly();
    }

    static Process start(List<String> command, Path log) {
        try {
            return new ProcessBuilder(command).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A CA of this run and the API server's certificate for the addresses and names of the kubernetes Service. */
    private void writeCertificates() {
        String d = dir.toString();
        Sh.must("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=pgha-e2e-ca",
                "-keyout", d + "/ca.key", "-out", d + "/ca.crt");
        Sh.must("openssl", "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=kubernetes",
                "-keyout", d + "/api.key", "-out", d + "/api.csr");
        try {
            Files.writeString(dir.resolve("api.ext"), "subjectAltName=IP:" + NodeNetwork.API_SERVICE_IP
                    + ",DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local\n");
            Sh.must("openssl", "x509", "-req", "-days", "2", "-in", d + "/api.csr", "-CA", d + "/ca.crt", "-CAkey", d + "/ca.key",
                    "-CAcreateserial", "-extfile", d + "/api.ext", "-out", d + "/api.crt");
            Files.writeString(dir.resolve("api.pem"), Files.readString(dir.resolve("api.crt")) + Files.readString(dir.resolve("api.key")));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void close() {
        stop(socketBridge);
        client.close();
        server.destroy();
    }
}
