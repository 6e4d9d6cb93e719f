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
            return text(Response.Status.BAD_REQUEST, e.getMessage());
        }
        try {
            WalDecisions.Push outcome = entry.archive().push(name, body == null ? new byte[0] : body);
            switch (outcome) {
                case STORE -> {
                    entry.succeeded();
                    return text(Response.Status.CREATED, "archived " + file);
                }
                case ALREADY_STORED -> {
                    entry.succeeded();
                    return text(Response.Status.OK, "already archived with the same content: " + file);
                }
                default -> {
                    entry.failed(file);
                    String message = "refused " + file + " of cluster " + cluster
                            + ": the archive already holds different content under that name";
                    LOG.error(message);
                    return text(Response.Status.CONFLICT, message);
                }
            }
        } catch (IOException e) {
            entry.failed(file);
            String message = "could not archive " + file + " of cluster " + cluster + ": " + e.getMessage();
            LOG.error(message);
            return text(Response.Status.INTERNAL_SERVER_ERROR, message);
        }
    }

    @GET
    public Response fetch(@PathParam("cluster") String cluster, @PathParam("file") String file) {
        WalArchive archive;
        WalFileName name;
        try {
            archive = archives.of(cluster).archive();
            name = WalFileName.parse(file);
        } catch (IllegalArgumentException e) {
            return text(Response.Status.BAD_REQUEST, e.getMessage());
        }
        try {
            WalArchive.Fetched fetched = archive.fetch(name);
            if (fetched.content().isPresent()) {
                return Response.ok(fetched.content().get(), MediaType.APPLICATION_OCTET_STREAM_TYPE).build();
            }
            if (fetched.missing().orElseThrow() instanceof WalDecisions.Hole hole) {
                LOG.error(hole.message());
                return text(Response.Status.INTERNAL_SERVER_ERROR, hole.message());
            }
            return text(Response.Status.NOT_FOUND, "not in the archive (beyond its end): " + file);
        } catch (IOException e) {
            String message = "could not fetch " + file + " of cluster " + cluster + ": " + e.getMessage();
            LOG.error(message);
            return text(Response.Status.INTERNAL_SERVER_ERROR, message);
        }
    }

    private static Response text(Response.Status status, String message) {
        return Response.status(status).entity(message + "\n").type(MediaType.TEXT_PLAIN_TYPE).build();
    }
}
