package io.pgha.backup.service;

import io.pgha.backup.core.WalDecisions;
import io.pgha.backup.wal.WalArchive;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import org.jboss.logging.Logger;

/**
 * The HTTP answers restore_command reads, for both ways it fetches (the plain archive and a
 * restore's read-ahead): 200 with the file; 404 only where the archive really ends, since
 * PostgreSQL takes a "no such file" as the end of recovery; a one-line 5xx naming the file for
 * anything else, which the command turns into an exit code that stops recovery instead.
 */
final class WalAnswers {
    private static final Logger LOG = Logger.getLogger(WalAnswers.class);

    private WalAnswers() {
    }

    static Response of(WalArchive.Fetched fetched, String file) {
        if (fetched.content().isPresent()) {
            return Response.ok(fetched.content().get(), MediaType.APPLICATION_OCTET_STREAM_TYPE).build();
        }
        if (fetched.missing().orElseThrow() instanceof WalDecisions.Hole hole) {
            return failed(hole.message());
        }
        return text(Response.Status.NOT_FOUND, "not in the archive (beyond its end): " + file);
    }

    /** A fetch that could not be answered: logged, and a 500 so that recovery stops. */
    static Response failed(String message) {
        LOG.error(message);
        return text(Response.Status.INTERNAL_SERVER_ERROR, message);
    }

    static Response text(Response.Status status, String message) {
        return Response.status(status).entity(message + "\n").type(MediaType.TEXT_PLAIN_TYPE).build();
    }
}
