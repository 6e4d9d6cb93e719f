package io.pgha.monitor.service;

import io.pgha.local.ControlToken;
import jakarta.inject.Inject;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import org.jboss.logging.Logger;
import org.jboss.resteasy.reactive.server.ServerRequestFilter;

import java.util.Map;
import java.util.Optional;

/**
 * Every call to the monitor's REST API ({@link ClustersResource}: topology and switchover) carries
 * the control token and no Origin header (see {@link ControlToken}); health and metrics stay open.
 */
public class ClustersGuard {
    private static final Logger LOG = Logger.getLogger(ClustersGuard.class);

    @Inject
    MonitorService service;

    @ServerRequestFilter(preMatching = true)
    public Optional<Response> guard(ContainerRequestContext request) {
        if (!ControlToken.under(request.getUriInfo().getPath(), ClustersResource.ROOT)) {
            return Optional.empty();
        }
        ControlToken.Decision d = ControlToken.decide(service.controlToken(), request.getHeaderString(ControlToken.HEADER),
                request.getHeaderString(ControlToken.ORIGIN), " (a switchover can be requested with the pgha.io/switchover-to annotation instead)");
        if (d.allowed()) {
            return Optional.empty();
        }
        LOG.warnf("refused %s %s: %s", request.getMethod(), request.getUriInfo().getPath(), d.message());
        Response.ResponseBuilder refusal = Response.status(d.status()).entity(Map.of("message", d.message()))
                .type(MediaType.APPLICATION_JSON);
        if (d.status() == 401) {
            refusal.header(HttpHeaders.WWW_AUTHENTICATE, ControlToken.SCHEME.strip());
        }
        return Optional.of(refusal.build());
    }
}
