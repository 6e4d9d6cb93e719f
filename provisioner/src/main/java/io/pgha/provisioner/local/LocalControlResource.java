package io.pgha.provisioner.local;

import io.pgha.api.ClusterNames;
import io.pgha.api.v1.ClusterPhase;
import io.pgha.api.v1.ConditionTypes;
import io.pgha.api.v1.Conditions;
import io.pgha.api.v1.cluster.PostgresCluster;
import io.pgha.api.v1.cluster.ProvisioningStatus;
import io.pgha.api.validation.ClusterValidator;
import io.pgha.api.validation.InvalidManifestException;
import io.pgha.api.validation.ManifestParser;
import io.pgha.api.validation.Violation;
import io.pgha.local.LocalLayout;
import io.pgha.local.LocalSecrets;
import io.pgha.local.store.ConflictException;
import jakarta.inject.Inject;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.DefaultValue;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * What the {@code pgha} launcher calls in local mode: apply a manifest, read the live status,
 * print a connection URI, stop or delete the cluster. Bound to loopback by the launcher; every
 * call needs the control token ({@link LocalControlGuard}).
 */
@Path("/" + LocalControlResource.ROOT)
@Produces(MediaType.APPLICATION_JSON)
public class LocalControlResource {
    /** How long a progress request waits for its line to change: short, so that pgha up still looks after the services. */
    private static final Duration PROGRESS_WAIT = Duration.ofSeconds(2);
    /** How often it reads the status meanwhile (a small file, in this process). */
    private static final Duration PROGRESS_LOOK = Duration.ofMillis(25);
    static final String ROOT = "local";

    @Inject
    LocalRuntime runtime;

    /** Validates the manifest and stores it; the reconcile loop does the rest. 422 names every bad field. */
    @POST
    @Path("/apply")
    @Consumes({MediaType.TEXT_PLAIN, "application/yaml", MediaType.APPLICATION_JSON})
    public Response apply(String manifest) {
        try {
            PostgresCluster cluster = ManifestParser.parseCluster(manifest);
            cluster.getMetadata().setNamespace(LocalLayout.NAMESPACE);
            cluster.getMetadata().setResourceVersion(null);
            List<PostgresCluster> existing = runtime.store().list(PostgresCluster.class, LocalLayout.NAMESPACE);
            for (PostgresCluster other : existing) {
                if (!other.getMetadata().getName().equals(cluster.getMetadata().getName())) {
                    return error(409, "metadata.name: this state directory already holds cluster '"
                            + other.getMetadata().getName() + "'; use another PGHA_HOME for another cluster");
                }
                List<Violation> violations = ClusterValidator.validateUpdate(other, cluster);
                if (!violations.isEmpty()) {
                    throw new InvalidManifestException(violations);
                }
            }
            PostgresCluster stored = runtime.store().apply(cluster);
            runtime.provisioner().resume();
            runtime.wake();
            return Response.ok(Map.of("name", stored.getMetadata().getName(),
                    "generation", stored.getMetadata().getGeneration())).build();
        } catch (InvalidManifestException e) {
            return error(422, e.getMessage());
        } catch (ConflictException e) {
            return error(409, e.getMessage());
        }
    }

    @GET
    @Path("/status")
    public Response status() {
        return cluster().map(c -> Response.ok(statusOf(c)).build())
                .orElseGet(() -> error(404, "no cluster has been applied in " + runtime.layout().home()));
    }

    /**
     * One line for the launcher to follow progress: phase, ready (true or false) and what the
     * provisioner is doing, tab-separated. With {@code unlike} (the line the caller shows) the
     * answer comes once the line differs from it, or after {@link #PROGRESS_WAIT}: pgha up sees each
     * step as it happens, where it polled every 300 ms with a curl process each (during a restore,
     * beside work that keeps both cores busy).
     */
    @GET
    @Path("/progress")
    @Produces(MediaType.TEXT_PLAIN)
    public Response progress(@QueryParam("unlike") String unlike) throws InterruptedException {
        String line = lineUnlike(() -> cluster().map(c -> progressLine(c, runtime.lastError())).orElse(null), unlike,
                PROGRESS_WAIT, PROGRESS_LOOK);
        return line != null ? Response.ok(line).build()
                : error(404, "no cluster has been applied in " + runtime.layout().home());
    }

    /**
     * The first line {@code current} gives that differs from {@code unlike} (both without their
     * trailing newline, which a shell's command substitution drops), looking every {@code look};
     * the line as it is once {@code wait} has passed; null as soon as there is none.
     */
    static String lineUnlike(Supplier<String> current, String unlike, Duration wait, Duration look) throws InterruptedException {
        long deadline = System.nanoTime() + wait.toNanos();
        while (true) {
            String line = current.get();
            if (line == null || unlike == null || !line.stripTrailing().equals(unlike.stripTrailing())
                    || System.nanoTime() >= deadline) {
                return line;
            }
            Thread.sleep(look.toMillis());
        }
    }

    /**
     * The progress of the spec as last applied. Failed ends the launcher's wait, so it counts only
     * for the generation that failed: a bootstrap that failed before a corrected manifest was
     * applied must not read as the new manifest's failure, and until the provisioner takes the new
     * generation up the phase is Pending.
     */
    static String progressLine(PostgresCluster c, String lastError) {
        var s = c.getStatus();
        Long generation = c.getMetadata().getGeneration();
        boolean current = s != null && generation != null && generation.equals(s.observedGeneration);
        boolean ready = current && Conditions.isTrue(s.conditions, ConditionTypes.READY);
        boolean staleFailure = s != null && ClusterPhase.FAILED.equals(s.phase) && !current;
        String phase = s == null || staleFailure ? ClusterPhase.PENDING : s.phase;
        String message;
        if (lastError != null) {
            message = "error: " + lastError;
        } else if (staleFailure) {
            message = "the provisioner has not yet taken up generation " + generation + " of the spec";
        } else if (s == null || s.provisioning == null || s.provisioning.message == null) {
            message = "waiting to start";
        } else {
            message = s.provisioning.message;
        }
        return phase + "\t" + ready + "\t" + message.replace('\t', ' ') + "\n";
    }

    /** The status for people: one line per instance. */
    @GET
    @Path("/status/text")
    @Produces(MediaType.TEXT_PLAIN)
    public Response statusText() {
        return cluster().map(c -> Response.ok(StatusView.render(statusOf(c))).build())
                .orElseGet(() -> error(404, "no cluster has been applied in " + runtime.layout().home()));
    }

    private StatusView.Cluster statusOf(PostgresCluster c) {
        return runtime.statusConnections().use(connections ->
                StatusView.of(c, runtime.layout(), runtime.secrets(), runtime.provisioner().restartRequests(), connections));
    }

    /**
     * One line, {@code postgresql://USER:PASSWORD@127.0.0.1:PORT/DB}, or with jdbc=true
     * {@code jdbc:postgresql://127.0.0.1:PORT/DB?user=USER&password=PASSWORD} (the driver's
     * connection properties, percent-encoded). target: router, primary (resolved now), rw (the
     * router's read-write port) or instance (with name).
     */
    @GET
    @Path("/uri")
    @Produces(MediaType.TEXT_PLAIN)
    public Response uri(@QueryParam("superuser") @DefaultValue("false") boolean superuser,
                        @QueryParam("target") @DefaultValue("primary") String target,
                        @QueryParam("instance") String instance,
                        @QueryParam("jdbc") @DefaultValue("false") boolean jdbc) {
        Optional<PostgresCluster> cluster = cluster();
        if (cluster.isEmpty()) {
            return error(404, "no cluster has been applied in " + runtime.layout().home());
        }
        String name = cluster.get().getMetadata().getName();
        LocalLayout layout = runtime.layout();
        String secret = superuser ? ClusterNames.superuserSecret(name) : ClusterNames.appSecret(name);
        Optional<LocalSecrets.Credentials> credentials = runtime.secrets().get(secret);
        if (credentials.isEmpty()) {
            return error(404, "credentials are not created yet");
        }
        int port;
        switch (target) {
            case "router" -> port = layout.routerPort();
            case "rw" -> port = layout.routerReadWritePort();
            case "primary", "instance" -> {
                String wanted = target.equals("primary") ? currentPrimary(cluster.get()) : instance;
                Optional<ProvisioningStatus.Instance> found = Optional.ofNullable(cluster.get().getStatus())
                        .map(s -> s.provisioning).flatMap(p -> wanted == null ? Optional.empty() : p.instance(wanted));
                if (found.isEmpty()) {
                    return error(404, "no instance named " + wanted);
                }
                port = layout.instancePort(found.get().serial);
            }
            default -> {
                return error(400, "target must be router, rw, primary or instance, got " + target);
            }
        }
        LocalSecrets.Credentials c = credentials.get();
        if (jdbc) {
            return Response.ok("jdbc:postgresql://" + LocalLayout.HOST + ":" + port + "/" + encode(c.database())
                    + "?user=" + encode(c.username()) + "&password=" + encode(c.password())).build();
        }
        return Response.ok("postgresql://" + encode(c.username()) + ":" + encode(c.password()) + "@"
                + LocalLayout.HOST + ":" + port + "/" + encode(c.database())).build();
    }

    /**
     * pgha restart: restarts {@code instance}, or every instance when none is named, in the
     * rolling order (standbys first, the primary through a switchover). Returns at once; the
     * cluster is not Ready until they all have restarted.
     */
    @POST
    @Path("/restart")
    public Response restart(@QueryParam("instance") String instance) throws Exception {
        Optional<PostgresCluster> cluster = cluster();
        List<String> names = cluster.map(c -> c.getStatus()).map(s -> s.provisioning)
                .map(p -> p.instances.stream().map(i -> i.name).toList()).orElse(List.of());
        if (names.isEmpty()) {
            return error(404, "no cluster has been applied in " + runtime.layout().home());
        }
        if (instance != null && !instance.isEmpty() && !names.contains(instance)) {
            return error(404, "no instance named " + instance + " (the instances are " + String.join(", ", names) + ")");
        }
        List<String> restart = instance == null || instance.isEmpty() ? names : List.of(instance);
        // on the reconcile thread, so that no pass that looked before the request reports the cluster Ready after it
        runtime.onLoop(() -> {
            runtime.provisioner().requestRestart(restart);
            return null;
        });
        runtime.wake();
        return Response.ok(Map.of("restart", restart)).build();
    }

    /** pgha history: the failovers and switchovers the monitor recorded, oldest first, one line each. */
    @GET
    @Path("/history")
    @Produces(MediaType.TEXT_PLAIN)
    public Response history() {
        return cluster().map(c -> Response.ok(History.render(Optional.ofNullable(c.getStatus()).map(s -> s.topology)
                        .map(t -> t.history).orElse(List.of()))).build())
                .orElseGet(() -> error(404, "no cluster has been applied in " + runtime.layout().home()));
    }

    /** pgha down: stops every instance cleanly; the cluster and its data stay. */
    @POST
    @Path("/stop")
    public Response stop() throws Exception {
        runtime.onLoop(() -> {
            runtime.provisioner().stopAll();
            return null;
        });
        return Response.ok(Map.of("stopped", true)).build();
    }

    /** The cluster's name, for the launcher's commands that address other services by it (the status asks every instance). */
    @GET
    @Path("/cluster")
    @Produces(MediaType.TEXT_PLAIN)
    public Response name() {
        return cluster().map(c -> Response.ok(c.getMetadata().getName() + "\n").build())
                .orElseGet(() -> error(404, "no cluster has been applied in " + runtime.layout().home()));
    }

    /** Deletes the cluster (stopping it); with purge=true its data and credentials go too. */
    @DELETE
    @Path("/cluster")
    public Response delete(@QueryParam("purge") @DefaultValue("false") boolean purge) throws Exception {
        Optional<PostgresCluster> cluster = cluster();
        if (cluster.isEmpty()) {
            return error(404, "no cluster to delete");
        }
        runtime.onLoop(() -> runtime.provisioner().delete(cluster.get().getMetadata().getName(), purge));
        return Response.ok(Map.of("deleted", cluster.get().getMetadata().getName(), "purged", purge)).build();
    }

    private static String currentPrimary(PostgresCluster cluster) {
        return Optional.ofNullable(cluster.getStatus()).map(s -> s.topology).map(t -> t.currentPrimary).orElse(null);
    }

    private Optional<PostgresCluster> cluster() {
        return runtime.store().list(PostgresCluster.class, LocalLayout.NAMESPACE).stream().findFirst();
    }

    private static String encode(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
    }

    static Response error(int status, String message) {
        return Response.status(status).entity(Map.of("error", message)).type(MediaType.APPLICATION_JSON).build();
    }
}
