package io.pgha.backup.service;

import jakarta.inject.Inject;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;

import java.io.IOException;
import java.util.List;

/**
 * What `pgha up` asks after the cluster is Ready: can every cluster's repository be written?
 * 200 when it can; 503 with one line per repository that cannot.
 */
@Path("/archive/check")
public class ArchiveCheckResource {
    @Inject
    ArchiveWatch watch;

    @GET
    public Response check() throws IOException {
        List<String> problems = watch.pass();
        if (problems.isEmpty()) {
            return Response.ok("every repository is writable\n", MediaType.TEXT_PLAIN_TYPE).build();
        }
        return Response.status(Response.Status.SERVICE_UNAVAILABLE).type(MediaType.TEXT_PLAIN_TYPE)
                .entity(String.join("\n", problems) + "\n").build();
    }
}
