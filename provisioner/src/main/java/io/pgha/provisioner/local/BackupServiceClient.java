package io.pgha.provisioner.local;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.pgha.api.v1.cluster.BootstrapSpec;
import io.pgha.local.ControlToken;
import io.pgha.local.LocalLayout;
import io.pgha.local.PghaException;

import java.io.IOException;
import java.io.InputStream;
import java.net.HttpURLConnection;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The provisioner's side of a restore: it asks the backup service (which alone reads repositories)
 * to check the target and pick the backup, then streams the backup from it. The same calls work
 * from a pod on Kubernetes, where the provisioner has no access to the repository's volume or
 * credentials; locally they keep one reader of the repository, with its checksums and codecs.
 * Every call carries the control token: the base backup is a whole copy of the source's data.
 */
final class BackupServiceClient {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration PLAN_TIMEOUT = Duration.ofMinutes(30);
    private static final int UNPROCESSABLE = 422;
    private static final int CONFLICT = 409;

    private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(10);
    /** How long a backup's stream may pause before the fetch fails: the service reads a repository that may be remote. */
    private static final Duration STALL_TIMEOUT = Duration.ofMinutes(5);

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(CONNECT_TIMEOUT).build();
    private final LocalLayout layout;
    private final String base;

    BackupServiceClient(LocalLayout layout) {
        this.layout = layout;
        this.base = "http://" + LocalLayout.HOST + ":" + layout.httpPort(LocalLayout.Service.BACKUP) + "/restores/";
    }

    /** A request to {@code path} under the restore's root, with the token the services share (read when needed). */
    private HttpRequest.Builder request(String path) {
        return HttpRequest.newBuilder(URI.create(base + path))
                .header(ControlToken.HEADER, ControlToken.getOrCreate(layout.controlToken()).authorization());
    }

    /**
     * The backup a restore starts from, the window its target was checked against, and the source's
     * settings that recovery needs at least as high (empty for a backup that did not record them).
     */
    record Planned(String backup, long dataBytes, String window, Map<String, String> settings) {
    }


    Planned start(String cluster, BootstrapSpec.Recovery recovery) {
        HttpResponse<String> r;
        try {
            r = http.send(request(cluster).timeout(PLAN_TIMEOUT)
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(recovery))).build(),
                    HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new PghaException("cannot reach the backup service at " + base + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new PghaException("interrupted while asking the backup service", e);
        }
        if (r.statusCode() == UNPROCESSABLE || r.statusCode() == CONFLICT) {
            throw new RestoreFailedException(r.body().strip());
        }
        if (r.statusCode() != 200) {
            throw new PghaException("the backup service could not plan the restore (HTTP " + r.statusCode() + "): " + r.body().strip());
        }
        try {
            JsonNode plan = JSON.readTree(r.body());
            Map<String, String> settings = new LinkedHashMap<>();
            plan.path("backup").path("settings").fields().forEachRemaining(e -> settings.put(e.getKey(), e.getValue().asText()));
            return new Planned(plan.path("backup").path("name").asText(), plan.path("backup").path("dataBytes").asLong(),
                    plan.path("window").asText(), settings);
        } catch (IOException e) {
            throw new PghaException("the backup service answered something else than a plan: " + e.getMessage(), e);
        }
    }

    /**
     * A file of the chosen backup (base.tar, backup_manifest), decompressed; the caller closes it.
     * Read through HttpURLConnection, not the HttpClient the other calls use: a fresh provisioner
     * took 4.4 s to read a 2 GB base.tar through HttpClient's InputStream body, against 2.0 s here
     * (2.2 s once HttpClient's code was compiled, which a restore, once per process, never sees).
     */
    InputStream open(String cluster, String file) {
        try {
            HttpURLConnection c = (HttpURLConnection) URI.create(base + cluster + "/" + file).toURL().openConnection();
            c.setConnectTimeout((int) CONNECT_TIMEOUT.toMillis());
            c.setReadTimeout((int) STALL_TIMEOUT.toMillis());
            c.setRequestProperty(ControlToken.HEADER, ControlToken.getOrCreate(layout.controlToken()).authorization());
            if (c.getResponseCode() != 200) {
                InputStream error = c.getErrorStream();
                String why = error == null ? "" : new String(error.readAllBytes(), StandardCharsets.UTF_8).strip();
                c.disconnect();
                throw new PghaException("cannot fetch " + file + " of the backup (HTTP " + c.getResponseCode() + "): " + why);
            }
            return c.getInputStream();
        } catch (IOException e) {
            throw new PghaException("cannot fetch " + file + " from the backup service: " + e.getMessage(), e);
        }
    }

    /** The restore is over: the service drops its read-ahead. Best effort. */
    void end(String cluster) {
        try {
            http.send(request(cluster).DELETE().build(), HttpResponse.BodyHandlers.discarding());
        } catch (IOException e) {
            // the session only holds a little memory until the service restarts
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
