package io.pgha.provisioner.local;

import com.sun.net.httpserver.HttpServer;
import org.junit.jupiter.api.Test;

import io.pgha.api.tls.ServerIdentity;
import io.pgha.provisioner.tls.CertificateIssuer;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.security.KeyStore;
import java.security.SecureRandom;
import java.security.cert.Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ServiceHttpTest {
    @Test
    void aRequestToAServiceOffersNoUpgradeToHttp2() throws Exception {
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        CompletableFuture<Map<String, List<String>>> seen = new CompletableFuture<>();
        server.createContext("/", exchange -> {
            seen.complete(Map.copyOf(exchange.getRequestHeaders()));
            exchange.sendResponseHeaders(204, -1);
            exchange.close();
        });
        server.start();
        try {
            URI uri = URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/restores/pg");
            HttpResponse<Void> r = ServiceHttp.client().send(HttpRequest.newBuilder(uri).GET().build(), HttpResponse.BodyHandlers.discarding());

            assertEquals(204, r.statusCode());
            Map<String, List<String>> headers = seen.get(10, TimeUnit.SECONDS);
            // header names compared as HTTP does, whatever case the server hands them over in
            assertTrue(headers.keySet().stream().noneMatch(h -> h.equalsIgnoreCase("Upgrade") || h.equalsIgnoreCase("HTTP2-Settings")),
                    "headers sent: " + headers);
        } finally {
            server.stop(0);
        }
    }

    @Test
    void theProvisionerHasOneClient() {
        assertSame(ServiceHttp.client(), ServiceHttp.client());
    }

    /**
     * The client trusts no certificate: it is for plain HTTP on loopback. A server with a valid
     * certificate (of a CA the test made) still fails the handshake, as it would for a client that
     * trusted the JDK's CA bundle; a client that trusted anything would get through.
     */
    @Test
    void anHttpsAddressFailsItsHandshake() throws Exception {
        CertificateIssuer issuer = new CertificateIssuer(new SecureRandom());
        CertificateIssuer.Issued ca = issuer.authority("pg", Instant.now(), Duration.ofHours(1));
        CertificateIssuer.Issued cert = issuer.server(ca, List.of("localhost"), Instant.now(), Duration.ofHours(1));
        KeyStore keys = KeyStore.getInstance("PKCS12");
        keys.load(null, null);
        keys.setKeyEntry("server", cert.key(), new char[0], new Certificate[] {cert.certificate(), ca.certificate()});
        KeyManagerFactory km = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        km.init(keys, new char[0]);
        SSLContext tls = SSLContext.getInstance("TLS");
        tls.init(km.getKeyManagers(), null, null);
        try (SSLServerSocket server = (SSLServerSocket) tls.getServerSocketFactory().createServerSocket(0, 2, InetAddress.getLoopbackAddress())) {
            CompletableFuture<List<String>> served = CompletableFuture.supplyAsync(() -> handshakes(server, 2));
            // the server is sound: a client that trusts the test's CA completes the handshake
            SSLContext trusting = SSLContext.getInstance("TLS");
            trusting.init(null, new TrustManager[] {ServerIdentity.trustManager(ca.certificatePem(), "localhost")}, null);
            try (SSLSocket control = (SSLSocket) trusting.getSocketFactory().createSocket("localhost", server.getLocalPort())) {
                control.startHandshake();
            }

            URI uri = URI.create("https://localhost:" + server.getLocalPort() + "/restores/pg");
            IOException e = assertThrows(IOException.class, () -> ServiceHttp.client()
                    .send(HttpRequest.newBuilder(uri).GET().build(), HttpResponse.BodyHandlers.discarding()));
            assertTrue(e instanceof SSLHandshakeException, "failed with " + e);
            assertEquals(List.of("done", "failed"), served.get(10, TimeUnit.SECONDS));
        }
    }

    /** Accepts {@code n} connections in turn: whether each one's handshake was done or failed. */
    private static List<String> handshakes(SSLServerSocket server, int n) {
        List<String> outcomes = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            try (SSLSocket s = (SSLSocket) server.accept()) {
                s.startHandshake();
                outcomes.add("done");
            } catch (IOException e) {
                outcomes.add("failed");
            }
        }
        return outcomes;
    }
}
