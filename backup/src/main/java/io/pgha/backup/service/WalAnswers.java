package io.pgha.backup.service;

import io.pgha.api.BearerToken;
import io.pgha.backup.core.WalDecisions;
import io.pgha.backup.wal.WalArchive;
import io.vertx.core.http.HttpServerRequest;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import org.jboss.logging.Logger;

import java.util.Locale;

/**
 * The HTTP answers restore_command reads, for both ways it fetches (the plain archive and a
 * restore's read-ahead): 200 with the file; 404 only where the archive really ends, since
 * PostgreSQL takes a "no such file" as the end of recovery; a one-line 5xx naming the file for
 * anything else, which the command turns into an exit code that stops recovery instead. And the
 * refusal of a request without the cluster's WAL token, for pushes too.
 */
public final class WalAnswers {
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

    /**
     * Null when the request may go on; else the answer that refuses it: 401 (with the challenge)
     * without a bearer token, 403 with a wrong one, 500 when the cluster's token cannot be read
     * (no such cluster, no Secret or no header file, no read access), each one line naming the cluster and the file.
     */
    static Response refusal(WalArchives archives, String cluster, String file, WalArchives.Access access, String authorization,
                            HttpServerRequest request) {
        String action = access.name().toLowerCase(Locale.ROOT);
        BearerToken.Verdict verdict;
        try {
            verdict = archives.authorize(cluster, authorization, access);
        } catch (IllegalArgumentException e) {
            return failed("could not check the token of a WAL " + action + " of " + file + " for cluster " + cluster
                    + ": " + e.getMessage());
        }
        if (verdict == BearerToken.Verdict.ACCEPTED) {
            return null;
        }
        archives.of(cluster).refused(verdict);
        return refused(verdict, "refused a WAL " + action + " of " + file + " for cluster " + cluster, request);
    }

    /**
     * The refusal of a request whose bearer token was missing (401, with the challenge) or wrong
     * (403): {@code what} and the reason in one line, logged with who asked, so that a stranger can
     * be found; the token itself is never logged.
     */
    public static Response refused(BearerToken.Verdict verdict, String what, HttpServerRequest request) {
        String message = what + ": " + (verdict == BearerToken.Verdict.MISSING ? "no bearer token" : "wrong token");
        LOG.warn(message + " (from " + (request == null || request.remoteAddress() == null ? "?" : request.remoteAddress().hostAddress()) + ")");
        if (verdict == BearerToken.Verdict.MISSING) {
            return Response.fromResponse(text(Response.Status.UNAUTHORIZED, message))
                    .header(HttpHeaders.WWW_AUTHENTICATE, BearerToken.CHALLENGE).build();
        }
        return text(Response.Status.FORBIDDEN, message);
    }

    /** A fetch that could not be answered: logged, and a 500 so that recovery stops. */
    static Response failed(String message) {
        LOG.error(message);
        return text(Response.Status.INTERNAL_SERVER_ERROR, message);
    }

    /** A plain-text answer of one line. */
    public static Response text(Response.Status status, String message) {
        return Response.status(status).entity(message + "\n").type(MediaType.TEXT_PLAIN_TYPE).build();
    }
}
