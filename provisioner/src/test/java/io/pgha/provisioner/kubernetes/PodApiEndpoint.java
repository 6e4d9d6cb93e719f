package io.pgha.provisioner.kubernetes;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The one call an instance pod makes to the Kubernetes API server, GET of its own pod, served over
 * real TLS (a certificate for 127.0.0.1 made by openssl, which is also the CA the script verifies
 * against) and authorized by a bearer token, as the API server does it. It can refuse every token
 * (401, as for a revoked token or a stranger answering), and it has a second port that accepts TCP
 * connections and never answers (a half-cut network, a proxy whose backend is gone).
 */
final class PodApiEndpoint implements AutoCloseable {
    static final String NAMESPACE = "db";
    private static final String TOKEN = "instance-token-" + System.nanoTime();

    private final HttpsServer https;
    private final ServerSocket silent;
    private final List<Socket> held = new ArrayList<>();
    private final Path caFile;
    private final Path tokenFile;
    private final Path untrustedCa;
    private final AtomicInteger requests = new AtomicInteger();
    private final Map<String, String> roles = new ConcurrentHashMap<>();
    private final AtomicInteger authorized = new AtomicInteger();
    private volatile boolean refuseTokens;

    PodApiEndpoint(Path dir) throws IOException, GeneralSecurityException, InterruptedException {
        Files.createDirectories(dir);
        caFile = dir.resolve("ca.crt");
        Path key = dir.resolve("key.pem");
        Path p12 = dir.resolve("server.p12");
        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", key.toString(), "-out", caFile.toString());
        openssl("pkcs12", "-export", "-in", caFile.toString(), "-inkey", key.toString(), "-out", p12.toString(), "-passout", "pass:test");
        // a CA of its own that signed nothing this endpoint presents
        untrustedCa = dir.resolve("other-ca.crt");
        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", dir.resolve("other-key.pem").toString(), "-out", untrustedCa.toString());
        tokenFile = dir.resolve("token");
        Files.writeString(tokenFile, TOKEN);

        KeyStore store = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(p12)) {
            store.load(in, "test".toCharArray());
        }
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(store, "test".toCharArray());
        SSLContext tls = SSLContext.getInstance("TLS");
        tls.init(kmf.getKeyManagers(), null, null);
        https = HttpsServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
        https.setHttpsConfigurator(new HttpsConfigurator(tls));
        https.createContext("/api/v1/namespaces/" + NAMESPACE + "/pods/", this::getPod);
        https.start();

        silent = new ServerSocket(0, 16, InetAddress.getLoopbackAddress());
        Thread acceptor = new Thread(() -> {
            while (!silent.isClosed()) {
                try {
                    Socket s = silent.accept();
                    synchronized (held) {
                        held.add(s);
                    }
                } catch (IOException e) {
                    return;
                }
            }
        }, "silent-api");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    private static void openssl(String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("openssl"));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IOException("openssl " + args[0] + " failed");
        }
    }

    private void getPod(HttpExchange exchange) throws IOException {
        requests.incrementAndGet();
        String name = exchange.getRequestURI().getPath().substring(exchange.getHttpContext().getPath().length());
        String auth = exchange.getRequestHeaders().getFirst("Authorization");
        int code;
        String body;
        if (refuseTokens || !("Bearer " + TOKEN).equals(auth)) {
            code = 401;
            body = "{\"kind\":\"Status\",\"status\":\"Failure\",\"reason\":\"Unauthorized\",\"code\":401}";
        } else if (!roles.containsKey(name)) {
            code = 404;
            body = "{\"kind\":\"Status\",\"status\":\"Failure\",\"reason\":\"NotFound\",\"code\":404}";
        } else {
            authorized.incrementAndGet();
            code = 200;
            // managedFields name the label too, with an f: prefix: the script must read the label itself
            body = "{\"kind\":\"Pod\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"" + name + "\",\"namespace\":\"" + NAMESPACE
                    + "\",\"labels\":{\"pgha.io/cluster\":\"pg\",\"pgha.io/instance\":\"" + name + "\",\"pgha.io/role\":\""
                    + roles.get(name) + "\"},\"managedFields\":[{\"fieldsV1\":{\"f:metadata\":{\"f:labels\":{\"f:pgha.io/role\":{}}}}}]}}";
        }
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", "application/json");
        exchange.sendResponseHeaders(code, bytes.length);
        exchange.getResponseBody().write(bytes);
        exchange.close();
    }

    /** The role label the API server reports for an instance pod. */
    void role(String instance, String role) {
        roles.put(instance, role);
    }

    void refuseTokens(boolean refuse) {
        refuseTokens = refuse;
    }

    /** Requests that reached this endpoint at all. */
    int requests() {
        return requests.get();
    }

    /** A CA certificate that did not sign this endpoint's certificate. */
    Path untrustedCa() {
        return untrustedCa;
    }

    /** Requests that carried the right token and got a pod. */
    int authorizedReads() {
        return authorized.get();
    }

    /** The script's environment for an API server at {@code port} (this endpoint's, or {@link #silentPort()}). */
    Map<String, String> env(int port) {
        Map<String, String> env = new LinkedHashMap<>();
        env.put("PGHA_API_HOST", "127.0.0.1");
        env.put("PGHA_API_PORT", Integer.toString(port));
        env.put("PGHA_API_TOKEN_FILE", tokenFile.toString());
        env.put("PGHA_API_CA_FILE", caFile.toString());
        env.put("PGHA_NAMESPACE", NAMESPACE);
        return env;
    }

    int port() {
        return https.getAddress().getPort();
    }

    int silentPort() {
        return silent.getLocalPort();
    }

    @Override
    public void close() throws IOException {
        https.stop(0);
        silent.close();
        synchronized (held) {
            for (Socket s : held) {
                s.close();
            }
        }
    }
}
