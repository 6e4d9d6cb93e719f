package io.pgha.provisioner.local;

import io.pgha.local.ControlToken;
import io.pgha.local.LocalLayout;

import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * The provisioner's one call to the monitor in local mode: a planned switchover, for the primary's
 * turn in a rolling restart. The monitor's REST API rather than the switchover annotation, which
 * the monitor acts on once per target, while rolling restarts come again and again.
 */
final class MonitorClient {
    private static final Duration TIMEOUT = Duration.ofMinutes(2);
    private static final int OK = 200;

    private final LocalLayout layout;
    private final String base;

    MonitorClient(LocalLayout layout) {
        this.layout = layout;
        this.base = "http://" + LocalLayout.HOST + ":" + layout.httpPort(LocalLayout.Service.MONITOR) + "/clusters/"
                + LocalLayout.NAMESPACE + "/";
    }

    /** Asks for a switchover to {@code target} and waits for it; null when done, else why not. */
    String switchover(String cluster, String target) {
        try {
            // the token the services share, read when needed (the monitor may have made it)
            ControlToken token = ControlToken.getOrCreate(layout.controlToken());
            HttpResponse<String> r = ServiceHttp.client().send(HttpRequest.newBuilder(URI.create(base + cluster + "/switchover?target="
                            + URLEncoder.encode(target, StandardCharsets.UTF_8)))
                    .timeout(TIMEOUT).header(ControlToken.HEADER, token.authorization())
                    .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString("{}")).build(),
                    HttpResponse.BodyHandlers.ofString());
            return r.statusCode() == OK ? null : "the monitor answered " + r.statusCode() + ": " + r.body().strip();
        } catch (IOException e) {
            return "cannot reach the monitor at " + base + ": " + e.getMessage();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted while the monitor switched over";
        }
    }
}
