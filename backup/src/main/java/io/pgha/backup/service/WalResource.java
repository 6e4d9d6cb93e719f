package io.pgha.backup.service;

import io.pgha.backup.core.WalDecisions;
import io.pgha.backup.core.WalFileName;
import io.pgha.backup.wal.WalArchive;
import jakarta.inject.Inject;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.PUT;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import org.jboss.logging.Logger;

import java.io.IOException;

/**
 * What archive_command and restore_command talk to. A PUT answers 2xx only once the file is
 * durably in the repository; errors come back as one line of text naming the file.
 */
@Path("/wal/{cluster}/{file}")
public class WalResource {
    private static final Logger LOG = Logger.getLogger(WalResource.class);

    @Inject
    WalArchives archives;

    @PUT
    @Consumes(MediaType.WILDCARD)
    public Response push(@PathParam("cluster") String cluster, @PathParam("file") String file, byte[] body) {
        WalArchives.Entry entry;
        WalFileName name;
        try {
            entry = archives.of(cluster);
            name = WalFileName.parse(file);
        } catch (IllegalArgumentException e) {
            return WalAnswers.text(Response.Status.BAD_REQUEST, e.getMessage());
        }
        try {
            WalDecisions.Push outcome = entry.archive().push(name, body == null ? new byte[0] : body);
            switch (outcome) {
                case STORE -> {
                    entry.succeeded(file, true);
                    return WalAnswers.text(Response.Status.CREATED, "archived " + file);
                }
                case ALREADY_STORED -> {
                    entry.succeeded(file, false);
                    return WalAnswers.text(Response.Status.OK, "already archived with the same content: " + file);
                }
                default -> {
                    return failed(entry, file, Response.Status.CONFLICT, "refused " + file + " of cluster " + cluster
                            + ": the archive already holds different content under that name");
                }
            }
        } catch (IOException | IllegalArgumentException e) {
            // IllegalArgumentException: the cluster's spec.backup names a repository that cannot be opened
            return failed(entry, file, Response.Status.INTERNAL_SERVER_ERROR,
                    "could not archive " + file + " of cluster " + cluster + ": " + e.getMessage());
        }
    }

    private static Response failed(WalArchives.Entry entry, String file, Response.Status status, String message) {
        entry.failed(file, message);
        LOG.error(message);
        return WalAnswers.text(status, message);
    }

    @GET
    public Response fetch(@PathParam("cluster") String cluster, @PathParam("file") String file) {
        WalArchive archive;
        WalFileName name;
        try {
            archive = archives.of(cluster).archive();
            name = WalFileName.parse(file);
        } catch (IllegalArgumentException e) {
            return WalAnswers.text(Response.Status.BAD_REQUEST, e.getMessage());
        }
        try {
            return WalAnswers.of(archive.fetch(name), file);
        } catch (IOException e) {
            return WalAnswers.failed("could not fetch " + file + " of cluster " + cluster + ": " + e.getMessage());
        }
    }
}
