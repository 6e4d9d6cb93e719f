package io.pgha.backup.service;

import io.pgha.backup.core.WalDecisions;
import io.pgha.backup.core.WalFileName;
import io.pgha.backup.wal.WalArchive;
import io.vertx.core.http.HttpServerRequest;
import jakarta.inject.Inject;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.PUT;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import org.jboss.logging.Logger;

import java.io.IOException;
import java.util.function.Function;

/**
 * What archive_command and restore_command talk to. A PUT answers 2xx only once the file is
 * durably in the repository; errors come back as one line of text naming the file. Every request
 * must carry the cluster's WAL token ({@link WalArchives#authorize}), checked before anything is
 * read from or written to the repository: without one the answer is 401, with a wrong one 403,
 * and the refusal is logged (never the token) and counted ({@link WalAnswers#refusal}).
 */
@Path("/wal/{cluster}/{file}")
public class WalResource {
    private static final Logger LOG = Logger.getLogger(WalResource.class);

    @Inject
    WalArchives archives;

    @Inject
    WalPushAhead pushAhead;

    @PUT
    @Consumes(MediaType.WILDCARD)
    public Response push(@PathParam("cluster") String cluster, @PathParam("file") String file,
                         @HeaderParam(HttpHeaders.AUTHORIZATION) String authorization, @Context HttpServerRequest request,
                         byte[] body) {
        return checked(cluster, file, WalArchives.Access.PUSH, authorization, request, name -> store(cluster, file, name, body));
    }

    private Response store(String cluster, String file, WalFileName name, byte[] body) {
        WalArchives.Entry entry = archives.of(cluster);
        try {
            WalDecisions.Push outcome = entry.archive().push(name, body == null ? new byte[0] : body);
            switch (outcome) {
                case STORE -> {
                    entry.succeeded(file, true);
                    pushAhead.after(cluster);
                    return WalAnswers.text(Response.Status.CREATED, "archived " + file);
                }
                case ALREADY_STORED -> {
                    entry.succeeded(file, false);
                    pushAhead.after(cluster);
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

    /** The archived file, only with the cluster's token (or a drill's): WAL holds every row the cluster wrote. */
    @GET
    public Response fetch(@PathParam("cluster") String cluster, @PathParam("file") String file,
                          @HeaderParam(HttpHeaders.AUTHORIZATION) String authorization, @Context HttpServerRequest request) {
        return checked(cluster, file, WalArchives.Access.FETCH, authorization, request, name -> read(cluster, file, name));
    }

    private Response read(String cluster, String file, WalFileName name) {
        WalArchive archive;
        try {
            archive = archives.of(cluster).archive();
        } catch (IllegalArgumentException e) {
            return WalAnswers.text(Response.Status.BAD_REQUEST, e.getMessage());
        }
        try {
            return WalAnswers.of(archive.fetch(name), file);
        } catch (IOException e) {
            return WalAnswers.failed("could not fetch " + file + " of cluster " + cluster + ": " + e.getMessage());
        }
    }

    /**
     * The answer of {@code then} to a request for WAL file {@code file} of cluster {@code cluster},
     * or, before anything is read from or written to the repository, 400 when either is not a name
     * or the refusal of a caller whose token does not allow {@code access}.
     */
    private Response checked(String cluster, String file, WalArchives.Access access, String authorization,
                             HttpServerRequest request, Function<WalFileName, Response> then) {
        WalFileName name;
        try {
            WalArchives.requireClusterName(cluster);
            name = WalFileName.parse(file);
        } catch (IllegalArgumentException e) {
            return WalAnswers.text(Response.Status.BAD_REQUEST, e.getMessage());
        }
        Response refusal = WalAnswers.refusal(archives, cluster, file, access, authorization, request);
        return refusal != null ? refusal : then.apply(name);
    }
}
