package io.pgha.backup.service;

import io.pgha.api.v1.backup.PostgresBackup;
import io.pgha.api.v1.cluster.BackupSpec;
import io.pgha.api.v1.cluster.BackupStatus;
import io.pgha.api.v1.cluster.PostgresCluster;
import io.pgha.api.v1.backup.PostgresBackupStatus;
import io.pgha.backup.core.BackupInfo;
import io.pgha.backup.core.RecoverableWindow;
import io.pgha.backup.core.WalFileName;
import jakarta.inject.Inject;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.StreamingOutput;

import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Base backups over HTTP, for the launcher's {@code pgha backup} and {@code pgha backups}: start
 * one, follow it, and list a cluster's backups with its archive and recoverable window. Errors are
 * one line of text.
 */
@Path("/backups/{cluster}")
public class BackupResource {
    @Inject
    BaseBackups backups;

    @Inject
    BackupCatalog catalog;

    @Inject
    WalArchives archives;

    @Inject
    BackupVerifier verifier;

    @Inject
    BackupSchedules schedules;

    /** Starts a backup; answers its name (202), or why not (404 unknown cluster, 409 one is running). */
    @POST
    @Produces(MediaType.TEXT_PLAIN)
    public Response start(@PathParam("cluster") String cluster) {
        try {
            return Response.accepted(backups.request(cluster) + "\n").build();
        } catch (BaseBackups.Refused e) {
            return text(e.conflict ? Response.Status.CONFLICT : Response.Status.NOT_FOUND, e.getMessage());
        }
    }

    /**
     * Runs a restore drill on backup {@code name} (default: the newest completed one) and streams
     * its report, one line at a time as it goes: {@code checked <what passed>}, {@code progress
     * <where it is>}, and last {@code verified <name>} or {@code failed <the problem>}, naming the
     * file or WAL segment. The outcome goes into status.backup and the metrics like a scheduled
     * drill's. 404 before anything streams when there is no such cluster or no backup.
     */
    @POST
    @Path("verify")
    @Produces(MediaType.TEXT_PLAIN)
    public Response verify(@PathParam("cluster") String cluster, @QueryParam("name") String name) {
        if (!backups.known(cluster)) {
            return text(Response.Status.NOT_FOUND, "no cluster " + cluster);
        }
        Optional<String> which;
        try {
            which = name == null || name.isBlank() ? verifier.newest(cluster) : Optional.of(name);
        } catch (IOException | RuntimeException e) {
            return text(Response.Status.INTERNAL_SERVER_ERROR, "cannot read the repository of cluster " + cluster + ": " + e.getMessage());
        }
        if (which.isEmpty()) {
            return text(Response.Status.NOT_FOUND, "cluster " + cluster + " has no completed backup to verify");
        }
        StreamingOutput body = out -> {
            Writer w = new OutputStreamWriter(out, StandardCharsets.UTF_8);
            BackupVerifier.Report report = new BackupVerifier.Report() {
                @Override
                public void checked(String line) {
                    send(w, "checked " + line);
                }

                @Override
                public void progress(String line) {
                    send(w, "progress " + line);
                }
            };
            Optional<String> problem;
            try {
                problem = verifier.verify(cluster, Optional.of(which.get()), report).orElseThrow().problem();
            } catch (IOException | RuntimeException e) {
                problem = Optional.of("cannot read the repository of cluster " + cluster + ": " + e.getMessage());
            }
            schedules.recordDrill(cluster, which.get(), problem, Instant.now());
            send(w, problem.map(p -> "failed " + p).orElse("verified " + which.get()));
        };
        return Response.ok(body, MediaType.TEXT_PLAIN_TYPE).build();
    }

    /** One line of a streamed report, flushed so that the client sees it now; a client gone does not stop the drill. */
    private static void send(Writer w, String line) {
        try {
            w.write(line.replace('\n', ' ') + "\n");
            w.flush();
        } catch (IOException e) {
            // the drill goes on and records its outcome; only its report is lost
        }
    }

    /** One line: phase, bytes done, bytes total and error, tab-separated, for a shell to follow. */
    @GET
    @Path("{name}/progress")
    @Produces(MediaType.TEXT_PLAIN)
    public Response progress(@PathParam("cluster") String cluster, @PathParam("name") String name) {
        Optional<PostgresBackup> b = backups.backup(cluster, name);
        if (b.isEmpty() || b.get().getStatus() == null) {
            return text(Response.Status.NOT_FOUND, "no backup " + name + " of cluster " + cluster);
        }
        PostgresBackupStatus s = b.get().getStatus();
        return Response.ok(s.phase + "\t" + orEmpty(s.bytesDone) + "\t" + orEmpty(s.bytesTotal) + "\t"
                + (s.error == null ? "" : s.error.replace('\t', ' ').replace('\n', ' ')) + "\n").build();
    }

    /**
     * The backups (oldest first), the archive and the recoverable window. {@code to} is the time of
     * the last COMMIT or ABORT record in the archive, found with pg_waldump in the newest segments.
     */
    @GET
    @Produces(MediaType.APPLICATION_JSON)
    public Response list(@PathParam("cluster") String cluster) {
        if (!backups.known(cluster)) {
            return text(Response.Status.NOT_FOUND, "no cluster " + cluster);
        }
        try {
            return Response.ok(listing(cluster)).build();
        } catch (IOException | RuntimeException e) {
            return text(Response.Status.INTERNAL_SERVER_ERROR, "cannot read the repository of cluster " + cluster + ": " + e.getMessage());
        }
    }

    /** The same as a table for people. */
    @GET
    @Path("text")
    @Produces(MediaType.TEXT_PLAIN)
    @SuppressWarnings("unchecked")
    public Response table(@PathParam("cluster") String cluster) {
        if (!backups.known(cluster)) {
            return text(Response.Status.NOT_FOUND, "no cluster " + cluster);
        }
        try {
            Map<String, Object> l = listing(cluster);
            StringBuilder out = new StringBuilder(String.format("%-28s %-10s %-12s %-12s %-22s %12s%n",
                    "NAME", "PHASE", "BEGIN LSN", "END LSN", "FINISHED", "STORED"));
            for (Map<String, Object> b : (List<Map<String, Object>>) l.get("backups")) {
                out.append(String.format("%-28s %-10s %-12s %-12s %-22s %12s%n", b.get("name"), b.get("phase"),
                        orDash(b.get("beginLsn")), orDash(b.get("endLsn")), orDash(shortTime(b.get("finishedAt"))),
                        orDash(b.get("sizeBytes"))));
                if (b.get("error") != null) {
                    out.append("    error: ").append(b.get("error")).append('\n');
                }
            }
            Map<String, Object> a = (Map<String, Object>) l.get("archive");
            Map<String, Object> r = (Map<String, Object>) l.get("recoverability");
            out.append(String.format("%nWAL archive: last segment %s at %s%s%n", orDash(a.get("lastArchivedWal")),
                    orDash(a.get("lastArchivedAt")), Boolean.TRUE.equals(a.get("failing")) ? " (FAILING)" : ""));
            out.append(String.format("Recoverable: from %s to %s%n", orDash(r.get("from")), orDash(r.get("to"))));
            Map<String, Object> sc = (Map<String, Object>) l.get("schedule");
            if (sc.get("schedule") == null) {
                out.append("Schedule: none (no spec.backup); retention: none\n");
            } else {
                out.append(String.format("Schedule: '%s' (UTC), next run %s%nRetention: window %s, at least %s backups; last: %s%n",
                        sc.get("schedule"), orDash(sc.get("nextRun")), sc.get("recoveryWindow"), sc.get("minBackups"),
                        orDash(sc.get("lastRetention"))));
                out.append(String.format("Restore drills: %s; next %s%n", sc.get("verify") == null
                        ? "not scheduled (no spec.backup.verify)" : "'" + sc.get("verify") + "' (UTC)", orDash(sc.get("nextDrill"))));
            }
            out.append(String.format("Last drill passed: %s%n", sc.get("lastVerifiedBackup") == null ? "never"
                    : sc.get("lastVerifiedBackup") + " at " + sc.get("lastVerifiedAt")));
            if (sc.get("lastDrillFailure") != null) {
                out.append(String.format("Last drill failed at %s: %s%n", sc.get("lastDrillFailureAt"), sc.get("lastDrillFailure")));
            }
            return Response.ok(out.toString()).build();
        } catch (IOException | RuntimeException e) {
            return text(Response.Status.INTERNAL_SERVER_ERROR, "cannot read the repository of cluster " + cluster + ": " + e.getMessage());
        }
    }

    private Map<String, Object> listing(String cluster) throws IOException {
        List<Map<String, Object>> list = new ArrayList<>();
        for (PostgresBackup b : backups.backups(cluster)) {
            PostgresBackupStatus s = b.getStatus() == null ? new PostgresBackupStatus() : b.getStatus();
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("name", b.getMetadata().getName());
            m.put("phase", s.phase);
            m.put("beginLsn", s.beginLsn);
            m.put("endLsn", s.endLsn);
            m.put("timeline", s.timeline);
            m.put("startedAt", s.startedAt);
            m.put("finishedAt", s.finishedAt);
            m.put("sizeBytes", s.size);
            m.put("instance", s.instance);
            if (s.error != null) {
                m.put("error", s.error);
            }
            list.add(m);
        }
        WalArchives.Entry wal = archives.of(cluster);
        Map<String, Object> archive = new LinkedHashMap<>();
        archive.put("lastArchivedWal", catalog.newestSegment(cluster).map(WalFileName::name).orElse(null));
        long last = wal.lastSuccessEpochSeconds().get();
        archive.put("lastArchivedAt", last > 0 ? Instant.ofEpochSecond(last).toString() : storedLastArchived(cluster));
        archive.put("failing", wal.failing());

        List<BackupInfo> completed = catalog.completed(cluster);
        Optional<BackupCatalog.ArchiveEnd> end = completed.isEmpty() ? Optional.empty() : catalog.archiveEnd(cluster);
        Optional<RecoverableWindow> window = RecoverableWindow.of(completed, end.flatMap(BackupCatalog.ArchiveEnd::lastTransactionEnd));
        Map<String, Object> recoverability = new LinkedHashMap<>();
        recoverability.put("from", window.map(w -> w.from().toString()).orElse(null));
        recoverability.put("to", window.map(w -> w.to().toString()).orElse(null));

        Map<String, Object> schedule = new LinkedHashMap<>();
        Optional<PostgresCluster> pc = backups.local().cluster(cluster);
        BackupSpec spec = pc.map(c -> c.getSpec().backup).orElse(null);
        BackupStatus status = pc.map(PostgresCluster::getStatus).map(st -> st.backup).orElse(null);
        schedule.put("schedule", spec == null ? null : spec.schedule);
        schedule.put("nextRun", status == null ? null : status.nextScheduledBackup);
        schedule.put("recoveryWindow", spec == null ? null : spec.retention.window().toString());
        schedule.put("minBackups", spec == null ? null : spec.retention.minBackups);
        schedule.put("lastRetention", status == null ? null : status.lastRetention);
        schedule.put("verify", spec == null ? null : spec.verify);
        schedule.put("nextDrill", status == null ? null : status.nextScheduledDrill);
        schedule.put("lastVerifiedBackup", status == null ? null : status.lastVerifiedBackup);
        schedule.put("lastVerifiedAt", status == null ? null : status.lastVerifiedAt);
        schedule.put("lastDrillFailure", status == null ? null : status.lastDrillFailure);
        schedule.put("lastDrillFailureAt", status == null ? null : status.lastDrillFailureAt);

        Map<String, Object> result = new LinkedHashMap<>();
        result.put("cluster", cluster);
        result.put("schedule", schedule);
        result.put("backups", list);
        result.put("archive", archive);
        result.put("recoverability", recoverability);
        return result;
    }

    /** After a restart of this service: the last archive time it wrote to the cluster's status before. */
    private String storedLastArchived(String cluster) {
        return backups.lastArchivedTimeInStatus(cluster);
    }

    private static String shortTime(Object rfc3339) {
        return rfc3339 == null ? null : rfc3339.toString().replaceFirst("\\.\\d+Z$", "Z");
    }

    private static Object orDash(Object o) {
        return o == null ? "-" : o;
    }

    private static String orEmpty(Long l) {
        return l == null ? "" : l.toString();
    }

    private static Response text(Response.Status status, String message) {
        return Response.status(status).entity(message + "\n").type(MediaType.TEXT_PLAIN_TYPE).build();
    }
}
