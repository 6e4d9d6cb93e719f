package io.pgha.backup.service;

import io.pgha.api.v1.cluster.BootstrapSpec;
import io.pgha.backup.core.BackupInfo;
import io.pgha.backup.core.ManifestCheckedTar;
import io.pgha.backup.core.WalFileName;
import io.pgha.backup.restore.RestoreSessions;
import io.pgha.api.ClusterNames;
import io.pgha.local.LocalLayout;
import io.pgha.local.OsUser;
import io.pgha.local.PgBinaries;
import io.pgha.local.PgCtl;
import io.quarkus.runtime.Startup;
import io.vertx.core.http.HttpServerRequest;
import jakarta.annotation.PostConstruct;
import jakarta.annotation.PreDestroy;
import jakarta.inject.Inject;
import jakarta.inject.Singleton;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.StreamingOutput;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * The source side of a restore, for the provisioner and the restoring instance: POST checks the
 * target and picks the backup (or refuses, naming the recoverable window), then the base backup is
 * extracted into the new primary's data directory and checked against its backup_manifest on the
 * way (local mode), and restore_command fetches WAL with read-ahead.
 * Every read goes through this service, which alone knows the repository, its layout, codecs and
 * credentials, so an instance or a pod needs nothing but HTTP.
 */
@Startup
@Singleton
@Path("/restores/{cluster}")
public class RestoreResource {
    private static final Logger LOG = Logger.getLogger(RestoreResource.class);
    /** A well-formed request for a restore that cannot be done (Response.Status has no constant for it). */
    private static final int UNPROCESSABLE = 422;
    /** How often an extraction reports its progress. */
    private static final Duration PROGRESS_EVERY = Duration.ofMillis(500);

    @Inject
    WalArchives archives;

    @Inject
    Repositories repositories;

    /** Segments read ahead of the one restore_command asks for. */
    @ConfigProperty(name = "pgha.backup.restore-read-ahead", defaultValue = "8")
    int readAhead;

    private ExecutorService readers;
    private RestoreSessions sessions;
    /** What POST answers: the backup chosen and the window the target was checked against. */
    public record Planned(BackupInfo backup, String window) {
    }

    @PostConstruct
    void start() {
        // parallel reads of a repository: enough to hide a remote store's latency, few enough for a small machine
        readers = Executors.newFixedThreadPool(4, r -> {
            Thread t = new Thread(r, "pgha-restore-read-ahead");
            t.setDaemon(true);
            return t;
        });
        // local mode: the provisioner makes the spool directory for a restore's restore_command
        java.nio.file.Path spool = new LocalLayout(archives.home(), LocalLayout.DEFAULT_PORT_BASE).restoreSpool();
        sessions = new RestoreSessions(archives::target, repositories::of, archives.home(), readers, readAhead,
                Optional.of(spool));
    }

    @PreDestroy
    void stop() {
        readers.shutdownNow();
    }

    @POST
    @Consumes(MediaType.APPLICATION_JSON)
    @jakarta.ws.rs.Produces(MediaType.APPLICATION_JSON)
    public Response start(@PathParam("cluster") String cluster, BootstrapSpec.Recovery recovery) {
        if (recovery == null || recovery.sourceCluster == null) {
            return text(Response.Status.BAD_REQUEST, "a restore needs spec.bootstrap.recovery.sourceCluster");
        }
        try {
            RestoreSessions.Session s = sessions.start(cluster, recovery);
            LOG.infof("restore of %s from %s: backup %s; %s", cluster, recovery.sourceCluster, s.backup().name(), s.window());
            return Response.ok(new Planned(s.backup(), s.window())).build();
        } catch (RestoreSessions.RefusedException | IllegalArgumentException e) {
            LOG.warnf("restore of %s refused: %s", cluster, e.getMessage());
            return text(UNPROCESSABLE, e.getMessage());
        } catch (IOException e) {
            LOG.errorf("restore of %s: cannot read the repository: %s", cluster, e.getMessage());
            return text(Response.Status.SERVICE_UNAVAILABLE, "cannot read the repository: " + e.getMessage());
        }
    }

    @DELETE
    public Response end(@PathParam("cluster") String cluster) {
        sessions.end(cluster);
        return Response.noContent().build();
    }

    /**
     * Local mode: extracts the chosen backup's base.tar into {@code instance}'s data directory, as
     * the PostgreSQL OS user, straight from the repository: decompressed here and piped into tar.
     * Streaming the 2 GB tar to the provisioner, which piped it into tar, took up to twice as long: both
     * JVMs copied every byte, and neither had compiled that code yet in a restore. On the way every
     * file is checked against the backup's backup_manifest ({@link ManifestCheckedTar}), which
     * pg_verifybackup did afterwards by reading the extracted files again (0.7-1.0 s of a 2 GB restore
     * here). The answer is text: a line with the bytes extracted so far, at most every
     * {@link #PROGRESS_EVERY}, then {@code done BYTES} or {@code failed: REASON} (the status line went
     * out before the first byte).
     */
    @POST
    @Path("/base/{instance}")
    @jakarta.ws.rs.Produces(MediaType.TEXT_PLAIN)
    public Response extract(@PathParam("cluster") String cluster, @PathParam("instance") String instance) {
        Optional<RestoreSessions.Session> session = sessions.of(cluster);
        if (session.isEmpty()) {
            return text(Response.Status.CONFLICT, "no restore of " + cluster + " is in progress in this backup service");
        }
        if (!archives.local()) {
            return text(Response.Status.CONFLICT, "this backup service extracts backups in local mode only");
        }
        if (ClusterNames.serialOf(cluster, instance).isEmpty()) {
            return text(Response.Status.BAD_REQUEST, instance + " is not an instance of cluster " + cluster);
        }
        LocalLayout layout = new LocalLayout(archives.home(), LocalLayout.DEFAULT_PORT_BASE);
        java.nio.file.Path dataDir = layout.dataDir(instance);
        RestoreSessions.Session restore = session.get();
        String name = restore.backup().name();
        StreamingOutput body = out -> {
            Writer lines = new OutputStreamWriter(out, StandardCharsets.US_ASCII);
            AtomicLong extracted = new AtomicLong();
            ProgressLines progress = new ProgressLines(lines);
            String outcome;
            try (InputStream stored = restore.open(restore.layout().baseTarKey(name))) {
                ManifestCheckedTar tar = new ManifestCheckedTar(stored, restore.manifestFiles());
                new PgCtl(PgBinaries.locate(), OsUser.forPostgres(), layout.commandLog())
                        .extractTar(tar, dataDir, bytes -> {
                            extracted.set(bytes);
                            progress.maybe(bytes);
                        });
                tar.finish();
                outcome = "done " + extracted.get();
            } catch (ManifestCheckedTar.Mismatch e) {
                LOG.errorf("restore of %s: base.tar of %s does not match its backup_manifest: %s", cluster, name, e.getMessage());
                outcome = "failed: it does not match its backup_manifest: " + e.getMessage();
            } catch (IOException | RuntimeException e) {
                LOG.errorf("restore of %s: extracting base.tar into %s failed: %s", cluster, dataDir, e.getMessage());
                outcome = "failed: " + String.valueOf(e.getMessage()).replace('\n', ' ');
            }
            lines.write(outcome + "\n");
            lines.flush();
        };
        return Response.ok(body, MediaType.TEXT_PLAIN_TYPE).build();
    }

    /**
     * Writes the bytes extracted so far as a line, at most every {@link #PROGRESS_EVERY}. When the
     * provisioner has gone away it stops writing, and the extraction still ends as it would (tar is
     * never left running); the provisioner discards a data directory it did not record.
     */
    private static final class ProgressLines {
        private final Writer out;
        private long last = System.nanoTime();
        private boolean gone;

        ProgressLines(Writer out) {
            this.out = out;
        }

        void maybe(long bytes) {
            long now = System.nanoTime();
            if (gone || now - last < PROGRESS_EVERY.toNanos()) {
                return;
            }
            last = now;
            try {
                out.write(bytes + "\n");
                out.flush();
            } catch (IOException e) {
                gone = true;
            }
        }
    }

    /**
     * restore_command: 200 with the file, 404 only where the archive really ends, 5xx naming the
     * file otherwise; only with the restoring cluster's own WAL token, since the source's WAL holds
     * every row it wrote.
     */
    @GET
    @Path("/wal/{file}")
    public Response wal(@PathParam("cluster") String cluster, @PathParam("file") String file,
                        @HeaderParam(HttpHeaders.AUTHORIZATION) String authorization, @Context HttpServerRequest request) {
        Response refusal = WalAnswers.refusal(archives, cluster, file, WalArchives.Access.FETCH, authorization, request);
        if (refusal != null) {
            return refusal;
        }
        Optional<RestoreSessions.Session> session = sessions.of(cluster);
        if (session.isEmpty()) {
            // never 404: that would let PostgreSQL end recovery early
            return text(Response.Status.CONFLICT, "no restore of " + cluster + " is in progress in this backup service"
                    + " (was it restarted?): cannot serve " + file);
        }
        WalFileName name;
        try {
            name = WalFileName.parse(file);
        } catch (IllegalArgumentException e) {
            return text(Response.Status.BAD_REQUEST, e.getMessage());
        }
        try {
            return WalAnswers.of(session.get().wal().fetch(name), file);
        } catch (IOException e) {
            return WalAnswers.failed("cannot restore " + file + " for " + cluster + ": " + e.getMessage());
        }
    }

    private static Response text(Response.Status status, String message) {
        return text(status.getStatusCode(), message);
    }

    private static Response text(int status, String message) {
        return Response.status(status).entity(message + "\n").type(MediaType.TEXT_PLAIN_TYPE).build();
    }
}
