package io.pgha.router.service;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.pgha.router.pool.PoolStats;
import io.pgha.router.pool.ServerPool;
import io.pgha.router.proxy.Router;
import io.pgha.router.proxy.RouterEvents;
import io.pgha.router.routing.Route;
import io.pgha.router.topology.ServerAddress;
import io.pgha.router.topology.StandbyState;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.function.ToDoubleFunction;
import java.util.function.ToIntFunction;

/** The router's Prometheus metrics, all named {@code pgha_router_*}. */
final class RouterMetrics implements RouterEvents {
    /**
     * The histogram's fixed buckets: from a select on a warm connection (a fraction of a
     * millisecond) to the wait timeout's order. Eighteen buckets instead of Micrometer's percentile
     * histogram (about seventy here) make recording on the event loop, once per transaction, cheap.
     */
    static final Duration[] TRANSACTION_BUCKETS = {
            Duration.ofNanos(100_000), Duration.ofNanos(250_000), Duration.ofNanos(500_000), Duration.ofMillis(1),
            Duration.ofNanos(2_500_000), Duration.ofMillis(5), Duration.ofMillis(10), Duration.ofMillis(25), Duration.ofMillis(50),
            Duration.ofMillis(100), Duration.ofMillis(250), Duration.ofMillis(500), Duration.ofSeconds(1), Duration.ofMillis(2500),
            Duration.ofSeconds(5), Duration.ofSeconds(10), Duration.ofSeconds(30), Duration.ofSeconds(60)};

    private final Counter toPrimary;
    private final Counter toStandby;
    private final Counter authFailures;
    private final MeterRegistry registry;
    private final Timer transactions;
    private final MultiGauge standbyLag;
    private final MultiGauge standbyHealthy;
    /** The standbys' latest states, replaced whole on the event loop, read when scraped. */
    private volatile Map<ServerAddress, StandbyState> standbys = Map.of();

    RouterMetrics(MeterRegistry registry) {
        this.registry = registry;
        toPrimary = Counter.builder("pgha.router.transactions").tag("route", "primary")
                .description("Transactions and autocommit statements started, by the server they went to").register(registry);
        toStandby = Counter.builder("pgha.router.transactions").tag("route", "standby")
                .description("Transactions and autocommit statements started, by the server they went to").register(registry);
        authFailures = Counter.builder("pgha.router.auth.failures").description("Failed client logins").register(registry);
        transactions = Timer.builder("pgha.router.transaction.duration").description("Time a client held a server connection")
                .serviceLevelObjectives(TRANSACTION_BUCKETS).register(registry);
        standbyLag = MultiGauge.builder("pgha.router.standby.lag.bytes").baseUnit("bytes")
                .description("WAL bytes a standby has yet to replay, as the router's polling last saw").register(registry);
        standbyHealthy = MultiGauge.builder("pgha.router.standby.healthy")
                .description("1 when the router's polling finds the standby answering and in recovery, else 0").register(registry);
    }

    /** Gauges over the router's live state, registered once the router runs. */
    void bind(Supplier<Router> router) {
        Gauge.builder("pgha.router.clients", () -> router.get() == null ? 0 : router.get().clientCount())
                .description("Connected clients").register(registry);
        Gauge.builder("pgha.router.pool.size", () -> router.get() == null ? 0 : router.get().settings().poolSize())
                .description("Most server connections per role, database and server, as now set").register(registry);
        gauge("pgha.router.server.connections", "active", router, ServerPool::active, "Server connections lent to clients");
        gauge("pgha.router.server.connections", "idle", router, ServerPool::idleCount, "Idle server connections");
        Gauge.builder("pgha.router.clients.waiting", () -> sum(router, ServerPool::waiting))
                .description("Clients waiting for a server connection").register(registry);
        FunctionCounter.builder("pgha.router.wait.timeouts", router, r -> stats(r) == null ? 0 : stats(r).waitTimeouts.sum())
                .description("Clients that gave up waiting for a server connection").register(registry);
        FunctionCounter.builder("pgha.router.server.connect.failures", router, r -> stats(r) == null ? 0 : stats(r).connectFailures.sum())
                .description("Failed server logins and connection attempts").register(registry);
        FunctionCounter.builder("pgha.router.wait.seconds", router, r -> stats(r) == null ? 0 : stats(r).waitNanos.sum() / 1e9)
                .description("Total time clients waited for server connections").register(registry);
    }

    private void gauge(String name, String state, Supplier<Router> router, ToIntFunction<ServerPool> f, String description) {
        Gauge.builder(name, () -> sum(router, f)).tag("state", state).description(description).register(registry);
    }

    private static PoolStats stats(Supplier<Router> router) {
        Router r = router.get();
        return r == null || r.pools() == null ? null : r.pools().stats();
    }

    private static int sum(Supplier<Router> router, ToIntFunction<ServerPool> f) {
        Router r = router.get();
        if (r == null || r.pools() == null) {
            return 0;
        }
        return r.pools().pools().stream().mapToInt(f).sum();
    }

    /** Re-registers the per-standby rows only when the set of standbys changed; values are read when scraped. */
    @Override
    public void standbyStates(Map<ServerAddress, StandbyState> states) {
        boolean sameStandbys = states.keySet().equals(standbys.keySet());
        standbys = states;
        if (!sameStandbys) {
            standbyLag.register(rows(states, s -> s.lagBytes()), true);
            standbyHealthy.register(rows(states, s -> s.healthy() ? 1 : 0), true);
        }
    }

    private List<MultiGauge.Row<?>> rows(Map<ServerAddress, StandbyState> states, ToDoubleFunction<StandbyState> value) {
        return states.keySet().stream().<MultiGauge.Row<?>>map(server -> MultiGauge.Row.of(Tags.of("server", server.toString()),
                () -> {
                    StandbyState s = standbys.get(server);
                    return s == null ? Double.NaN : value.applyAsDouble(s);
                })).toList();
    }

    @Override
    public void routed(Route route, boolean standby) {
        (standby ? toStandby : toPrimary).increment();
    }

    @Override
    public void transactionFinished(long nanos) {
        transactions.record(nanos, TimeUnit.NANOSECONDS);
    }

    @Override
    public void authenticationFailed() {
        authFailures.increment();
    }

    @Override
    public void clientError(String sqlState) {
        registry.counter("pgha.router.client.errors", "sqlstate", sqlState).increment();
    }
}
