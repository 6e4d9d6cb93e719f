package io.pgha.router.service;

import io.micrometer.core.instrument.MeterRegistry;
import io.pgha.local.LocalLayout;
import io.pgha.router.topology.LookupCredentials;
import io.pgha.router.auth.QueryAuthLookup;
import io.pgha.router.topology.LocalLookupCredentials;
import java.util.function.Supplier;
import io.pgha.router.proxy.ClientTls;
import io.pgha.router.proxy.Router;
import io.pgha.router.proxy.RouterSettings;
import io.pgha.router.auth.PgProcCatalogSource;
import io.pgha.router.topology.TopologySource;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import io.vertx.core.Vertx;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

/** Starts the router with the application: the read/write-split listener and the read-write one. */
@ApplicationScoped
public class RouterService {
    @Inject
    Vertx vertx;
    @Inject
    RouterConfig config;
    @Inject
    TopologySource topology;
    @Inject
    MeterRegistry registry;

    /**
     * How often the cluster's spec.router is compared with the router's settings: a field read
     * per check, as often as the local store is read, so an apply reaches the router within
     * about two tenths of a second.
     */
    private static final Duration FOLLOW_EVERY = Duration.ofMillis(100);

    private volatile Router router;
    private volatile RouterSettings configured;
    private volatile long follower = -1;
    private volatile int port;
    private volatile int rwPort;

    void start(@Observes StartupEvent event) throws Exception {
        configured = new RouterSettings(config.poolMode(), config.poolSize(), config.maxClientConnections(),
                config.maxMessageSize(), config.waitTimeout(), config.idleTimeout(), config.serverDownFor(), config.functionRefresh(),
                config.maxReplicaLagBytes(), config.serverTls(), config.maxPreparedStatements(), config.readPolicy(), config.readYourWrites(),
                config.loginTimeout(), config.serverResetAlways(), serverCa());
        RouterSettings settings = wanted();
        Supplier<LookupCredentials> credentials = config.topology().source() == RouterConfig.Source.LOCAL
                ? new LocalLookupCredentials(LocalLayout.fromEnvironment())
                : LookupCredentials.fixed(config.auth().user(), config.auth().password().orElse(""), configured.serverCa());
        QueryAuthLookup auth = new QueryAuthLookup(vertx, () -> topology.current().primary(), config.auth().database(),
                credentials, config.auth().cacheTtl());
        RouterMetrics metrics = new RouterMetrics(registry);
        PgProcCatalogSource functions = new PgProcCatalogSource(vertx, () -> topology.current().primary(), credentials);
        Router r = Router.start(vertx, settings, topology, auth, functions, metrics)
                .toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
        metrics.bind(() -> router);
        r.adminConsole(config.admin().database(), java.util.Set.copyOf(config.admin().users().orElse(java.util.List.of())));
        r.trackStandbys(credentials, config.auth().database(), config.replayPollInterval(), config.replayWait())
                .toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
        r.clientTls(new ClientTls(config.tls().certPath().orElse(null), config.tls().keyPath().orElse(null), config.tls().required()));
        port = r.listen(config.host(), config.port(), false).toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
        rwPort = r.listen(config.host(), config.rwPort(), true).toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
        router = r;
        follower = vertx.setPeriodic(FOLLOW_EVERY.toMillis(), t -> follow());
    }

    /** The servers' CA certificate from pgha.router.server-ca-file, read once: pgha does not rotate the CA. */
    private String serverCa() {
        return config.serverCaFile().map(file -> {
            try {
                return java.nio.file.Files.readString(java.nio.file.Path.of(file));
            } catch (java.io.IOException e) {
                throw new IllegalStateException("pgha.router.server-ca-file: cannot read " + file + ": " + e.getMessage(), e);
            }
        }).orElse(null);
    }

    /** The settings the cluster's spec.router asks for, or the configured ones without a cluster object. */
    private RouterSettings wanted() {
        return topology.routerSpec().map(spec -> SpecSettings.apply(configured, spec)).orElse(configured);
    }

    /** Applies a changed spec.router to the running router; clients stay connected. */
    private void follow() {
        Router r = router;
        RouterSettings next = wanted();
        if (r != null && !next.equals(r.settings())) {
            r.reconfigure(next);
        }
    }

    void stop(@Observes ShutdownEvent event) throws Exception {
        vertx.cancelTimer(follower);
        Router r = router;
        router = null;
        if (r != null) {
            r.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        }
    }

    /** The router, once both listeners are bound; null before. */
    public Router router() {
        return router;
    }

    public int port() {
        return port;
    }

    public int rwPort() {
        return rwPort;
    }
}
