package io.pgha.provisioner.local;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.pgha.api.v1.cluster.BootstrapSpec;
import io.pgha.local.ControlToken;
import io.pgha.local.LocalLayout;
import io.pgha.local.Pauses;
import io.pgha.local.PghaException;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.LongConsumer;
import java.util.stream.Stream;

/**
 * The provisioner's side of a restore: it asks the backup service (which alone reads repositories)
 * to check the target and pick the backup, then to extract it into the new primary's data directory
 * (the service runs on this machine in local mode, the only one that restores into a new cluster
 * so far), and streams the backup_manifest from it. One reader of the repository, with its
 * checksums and codecs.
 * Every call carries the control token: the base backup is a whole copy of the source's data.
 */
final class BackupServiceClient {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration PLAN_TIMEOUT = Duration.ofMinutes(30);
    /** How long a restore waits for the backup service to listen (pgha up's own limit for a service's start is 60 s). */
    private static final Duration LISTEN_WAIT = Duration.ofSeconds(60);
    private static final Duration LISTEN_RETRY = Duration.ofMillis(25);
    private static final int UNPROCESSABLE = 422;
    private static final int CONFLICT = 409;
    /** The last line of a base backup's extraction: done BYTES, or failed: REASON (RestoreResource#extract). */
    private static final String EXTRACT_DONE = "done ";
    private static final String EXTRACT_FAILED = "failed:";

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
        String body;
        try {
            body = JSON.writeValueAsString(recovery);
        } catch (IOException e) {
            throw new PghaException("cannot write the restore's recovery spec as JSON: " + e.getMessage(), e);
        }
        HttpRequest planning = request(cluster).timeout(PLAN_TIMEOUT).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build();
        HttpResponse<String> r = send(planning, HttpResponse.BodyHandlers.ofString(), "planning the restore", LISTEN_WAIT);
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
     * Has the backup service extract the chosen backup's base.tar into {@code instance}'s data
     * directory (it reads the repository and runs tar as the PostgreSQL OS user, so the bytes
     * cross no HTTP connection and no second JVM); {@code extracted} is told the bytes so far.
     * Throws PghaException with the service's reason when the extraction fails.
     */
    void extract(String cluster, String instance, LongConsumer extracted) {
        HttpResponse<Stream<String>> r = send(request(cluster + "/base/" + instance).POST(HttpRequest.BodyPublishers.noBody()).build(),
                HttpResponse.BodyHandlers.ofLines(), "extracting the base backup");
        try (Stream<String> lines = r.body()) {
            if (r.statusCode() != 200) {
                throw new PghaException("the backup service cannot extract the base backup (HTTP " + r.statusCode() + "): "
                        + String.join(" ", lines.toList()).strip());
            }
            Iterator<String> it = lines.iterator();
            while (it.hasNext()) {
                String line = it.next();
                if (line.startsWith(EXTRACT_DONE)) {
                    return;
                }
                if (line.startsWith(EXTRACT_FAILED)) {
                    throw new PghaException(line.substring(EXTRACT_FAILED.length()).strip());
                }
                extracted.accept(Long.parseLong(line.strip()));
            }
        } catch (NumberFormatException | UncheckedIOException e) {
            throw new PghaException("the backup service's extraction answer broke off: " + e.getMessage(), e);
        }
        throw new PghaException("the backup service ended the extraction without saying how it went (see its log)");
    }

    /** Sends {@code request}; a connection that fails or an interrupt ends {@code doing} with a one-line PghaException. */
    private <T> HttpResponse<T> send(HttpRequest request, HttpResponse.BodyHandler<T> body, String doing) {
        return send(request, body, doing, Duration.ZERO);
    }

    /**
     * {@link #send}, with a refused connection tried again every {@link #LISTEN_RETRY} until
     * {@code listenWait} has passed: pgha up hands the provisioner the manifest while the backup
     * service may still be starting.
     */
    private <T> HttpResponse<T> send(HttpRequest request, HttpResponse.BodyHandler<T> body, String doing, Duration listenWait) {
        long deadline = System.nanoTime() + listenWait.toNanos();
        while (true) {
            try {
                return ServiceHttp.client().send(request, body);
            } catch (ConnectException e) {
                if (System.nanoTime() - deadline >= 0) {
                    throw unreachable(doing, e);
                }
                Pauses.pause(LISTEN_RETRY, doing);
            } catch (IOException e) {
                throw unreachable(doing, e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new PghaException("interrupted while " + doing, e);
            }
        }
    }

    private PghaException unreachable(String doing, IOException e) {
        return new PghaException("cannot reach the backup service at " + base + " (" + doing + "): " + e.getMessage(), e);
    }

    /** The restore is over: the service drops its read-ahead. Best effort. */
    void end(String cluster) {
        try {
            ServiceHttp.client().send(request(cluster).DELETE().build(), HttpResponse.BodyHandlers.discarding());
        } catch (IOException e) {
            // the session only holds a little memory until the service restarts
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
