package io.pgha.provisioner.local;

import com.sun.net.httpserver.HttpServer;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

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
            HttpResponse<Void> r = ServiceHttp.client(Duration.ofSeconds(5))
                    .send(HttpRequest.newBuilder(uri).GET().build(), HttpResponse.BodyHandlers.discarding());

            assertEquals(204, r.statusCode());
            Map<String, List<String>> headers = seen.get(10, TimeUnit.SECONDS);
            assertNull(headers.get("Upgrade"), "headers sent: " + headers);
            assertNull(headers.get("Http2-settings"), "headers sent: " + headers);
        } finally {
            server.stop(0);
        }
    }
}
