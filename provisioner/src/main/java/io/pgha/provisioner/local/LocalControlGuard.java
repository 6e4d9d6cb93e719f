package io.pgha.provisioner.local;

import io.pgha.local.ControlToken;
import io.pgha.local.PghaException;
import jakarta.inject.Inject;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import org.jboss.logging.Logger;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;
import org.jboss.resteasy.reactive.server.ServerRequestFilter;

import java.util.Map;
import java.util.Optional;

/**
 * Every call to the local control API ({@link LocalControlResource}) carries the control token
 * and no Origin header (see {@link ControlToken}); health and metrics stay open. A failure the
 * provisioner can explain (a damaged state file, say) is answered with that one line.
 */
public class LocalControlGuard {
    private static final Logger LOG = Logger.getLogger(LocalControlGuard.class);

    @Inject
    LocalRuntime runtime;

    @ServerRequestFilter(preMatching = true)
    public Optional<Response> guard(ContainerRequestContext request) {
        if (!ControlToken.under(request.getUriInfo().getPath(), LocalControlResource.ROOT)) {
            return Optional.empty();
        }
        if (!runtime.active()) {
            return Optional.of(LocalControlResource.error(404, "the local control API runs only on the local platform"));
        }
        ControlToken.Decision d = runtime.controlToken().check(request.getHeaderString(ControlToken.HEADER),
                request.getHeaderString(ControlToken.ORIGIN));
        if (d.allowed()) {
            return Optional.empty();
        }
        LOG.warnf("refused %s %s: %s", request.getMethod(), request.getUriInfo().getPath(), d.message());
        Response refusal = LocalControlResource.error(d.status(), d.message());
        return Optional.of(d.status() == 401
                ? Response.fromResponse(refusal).header(HttpHeaders.WWW_AUTHENTICATE, ControlToken.SCHEME.strip()).build()
                : refusal);
    }

    @ServerExceptionMapper
    public Response explain(PghaException e) {
        LOG.error(e.getMessage());
        return Response.status(500).entity(Map.of("error", e.getMessage())).type(MediaType.APPLICATION_JSON).build();
    }
}
