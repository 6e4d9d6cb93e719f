package io.pgha.monitor.service;

import io.pgha.api.v1.cluster.PostgresCluster;
import io.pgha.api.v1.cluster.TopologyStatus;
import io.pgha.monitor.core.InstanceObservation;
import io.pgha.monitor.core.TopologyReport;
import io.smallrye.common.annotation.Blocking;
import jakarta.inject.Inject;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The monitor's REST API: the live topology of the clusters it watches, and planned switchovers.
 * Every call needs the control token ({@link ClustersGuard}).
 */
@Path("/" + ClustersResource.ROOT)
@Produces(MediaType.APPLICATION_JSON)
public class ClustersResource {
    static final String ROOT = "clusters";

    @Inject
    MonitorService service;

    /** One cluster as this monitor sees it now. */
    public record ClusterView(String namespace, String name, String monitor, boolean leader, String leaseHolder,
                              String currentPrimary, String targetPrimary, Integer timeline, List<String> fenced,
                              List<TopologyStatus.Instance> instances, List<TopologyStatus.Promotion> history,
                              String decision, String running) {
    }

    /** Body of a switchover request; {@code target} may be left out to let the monitor choose. */
    public record SwitchoverRequest(String target) {
    }

    @GET
    public List<ClusterView> list() {
        return service.monitors().stream().flatMap(m -> m.lastSeen().map(c -> view(m, c)).stream()).toList();
    }

    @GET
    @Path("/{namespace}/{name}")
    public Response get(@PathParam("namespace") String namespace, @PathParam("name") String name) {
        return service.monitor(namespace, name)
                .flatMap(m -> m.lastSeen().map(c -> view(m, c)))
                .map(v -> Response.ok(v).build())
                .orElseGet(() -> error(Response.Status.NOT_FOUND, "no cluster " + namespace + "/" + name));
    }

    @POST
    @Path("/{namespace}/{name}/switchover")
    @Blocking
    public Response switchover(@PathParam("namespace") String namespace, @PathParam("name") String name,
                               @QueryParam("target") String targetParam, SwitchoverRequest body) {
        var monitor = service.monitor(namespace, name).filter(m -> m.lastSeen().isPresent());
        if (monitor.isEmpty()) {
            return error(Response.Status.NOT_FOUND, "no cluster " + namespace + "/" + name);
        }
        String target = targetParam != null ? targetParam : body == null ? null : body.target();
        try {
            ClusterMonitor.SwitchoverResult r = monitor.get().requestSwitchover(target)
                    .get(service.config().monitor().switchoverTimeout().toMillis(), TimeUnit.MILLISECONDS);
            return Response.status(r.done() ? Response.Status.OK : Response.Status.CONFLICT).entity(r).build();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof ClusterMonitor.NotLeaderException) {
                return error(Response.Status.CONFLICT, e.getCause().getMessage());
            }
            return error(Response.Status.INTERNAL_SERVER_ERROR, String.valueOf(e.getCause().getMessage()));
        } catch (TimeoutException e) {
            return error(Response.Status.ACCEPTED, "the switchover is still running: see GET /clusters/" + namespace + "/" + name);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return error(Response.Status.SERVICE_UNAVAILABLE, "interrupted");
        }
    }

    private static Response error(Response.Status status, String message) {
        return Response.status(status).entity(Map.of("message", message)).build();
    }

    static ClusterView view(ClusterMonitor m, PostgresCluster c) {
        TopologyStatus t = c.getStatus() == null || c.getStatus().topology == null ? new TopologyStatus() : c.getStatus().topology;
        Map<String, InstanceObservation> latest = m.latest();
        List<String> names = new ArrayList<>(latest.keySet());
        Set<String> fenced = new TreeSet<>(t.fenced);
        List<TopologyStatus.Instance> live = names.isEmpty() ? t.instances
                : TopologyReport.instances(names, t.currentPrimary, fenced, latest);
        return new ClusterView(m.namespace(), m.name(), m.identity(), m.isLeader(), m.leaseHolder(), t.currentPrimary,
                t.targetPrimary, t.timeline, List.copyOf(t.fenced), live, t.history, m.lastDecision(),
                m.running().map(p -> p.kind().label() + " " + p.phase()).orElse(null));
    }
}
