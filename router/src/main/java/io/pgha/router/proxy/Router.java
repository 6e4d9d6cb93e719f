package io.pgha.router.proxy;

import io.pgha.router.auth.AuthLookup;
import io.pgha.router.pool.PoolManager;
import io.pgha.router.pool.ServerConnection;
import io.pgha.router.protocol.PgMessages;
import io.pgha.router.routing.FunctionCatalog;
import io.pgha.router.routing.FunctionCatalogSource;
import io.pgha.router.routing.Route;
import io.pgha.router.routing.ServerChoice;
import io.pgha.router.routing.StatementClassifier;
import io.pgha.router.topology.ServerAddress;
import io.pgha.router.topology.StandbyState;
import io.pgha.router.topology.Topology;
import io.pgha.router.topology.TopologySource;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetServerOptions;
import io.vertx.core.net.PemKeyCertOptions;
import org.jboss.logging.Logger;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The proxy: listeners, client sessions, pools, cancel keys. Like PgBouncer it runs on one event
 * loop, so that sessions, pools and server connections share state without locks; it never
 * blocks that loop.
 */
public final class Router {
    private static final Logger LOG = Logger.getLogger(Router.class);

    final Vertx vertx;
    final Context context;
    /** Replaced whole by {@link #reconfigure}; read by other threads for admission and metrics. */
    volatile RouterSettings settings;
    final TopologySource topology;
    final AuthLookup auth;
    final StatementClassifier classifier;
    final FunctionCatalogSource catalogs;
    /** Volatile user functions per database, refreshed periodically. */
    private final Map<String, FunctionCatalog> functionCatalogs = new java.util.concurrent.ConcurrentHashMap<>();
    private final Map<String, StatementClassifier> classifiers = new HashMap<>();
    final RouterEvents events;
    final StatementNames names = new StatementNames();
    final Map<Long, ClientSession> cancelKeys = new HashMap<>();
    private final Map<String, DatabaseStats> databaseStats = new HashMap<>();
    /** This router's secret for the decoy verifiers of unknown roles ({@link io.pgha.router.auth.ScramVerifier#decoy}). */
    final byte[] decoyKey = io.pgha.api.postgres.Scram.randomBytes(32);
    /** Parameters to greet clients with, per role and database, learned from a server login. */
    final Map<String, Map<String, String>> welcome = new HashMap<>();
    private final AtomicInteger clients = new AtomicInteger();
    private final List<NetServer> servers = new ArrayList<>();
    PoolManager pools;
    private final ServerChoice choice = new ServerChoice();
    private boolean paused;
    private final java.util.ArrayDeque<Runnable> pausedAcquires = new java.util.ArrayDeque<>();
    private final List<Promise<Void>> drainWaiters = new ArrayList<>();
    /** Client sessions holding a server connection right now. */
    private int attached;
    ClientTls tls = ClientTls.NONE;
    private final java.util.Set<ClientSession> sessions = new java.util.LinkedHashSet<>();
    /** Roles allowed into the admin console, and its virtual database name. */
    private java.util.Set<String> adminUsers = java.util.Set.of();
    private String adminDatabase = "pgha";
    private long catalogRefresh;
    /** How often the router compares the recorded primary with the one it saw last. */
    static final long PRIMARY_WATCH_MS = 100;
    private long primaryWatch;
    /** The primary as the router saw it last; null before the first look. */
    private ServerAddress lastPrimary;
    /** The router's own polling: standby health and lag, commit and replay positions; null when not tracking. */
    io.pgha.router.topology.ReplayTracker replay;
    /** Read-your-writes: how long a read right after a write waits for a standby to catch up. */
    long replayWaitNanos;

    private Router(Vertx vertx, RouterSettings settings, TopologySource topology, AuthLookup auth,
                   FunctionCatalogSource catalogs, RouterEvents events) {
        this.vertx = vertx;
        this.context = vertx.getOrCreateContext();
        this.settings = settings;
        this.topology = topology;
        this.auth = auth;
        this.classifier = new StatementClassifier();
        this.catalogs = catalogs;
        this.events = events;
    }

    /** Creates a router on an event loop of its own. */
    public static Future<Router> start(Vertx vertx, RouterSettings settings, TopologySource topology, AuthLookup auth,
                                       FunctionCatalogSource catalogs, RouterEvents events) {
        Router r = new Router(vertx, settings, topology, auth, catalogs, events);
        return r.onLoop(() -> {
            r.pools = new PoolManager(vertx, settings.poolSize(), settings.waitTimeout(), settings.idleTimeout(),
                    settings.serverDownFor(), settings.maxMessageSize(), settings.serverTls(), settings.serverCa());
            r.catalogRefresh = vertx.setPeriodic(Math.max(100, settings.functionRefresh().toMillis()), t -> r.refreshCatalogs());
            r.followPrimary();
            r.primaryWatch = vertx.setPeriodic(PRIMARY_WATCH_MS, t -> r.followPrimary());
            return r;
        });
    }

    /**
     * The classifier for one database, which knows that database's volatile user functions. The
     * first client of a database waits for them to load; later changes arrive with the periodic
     * refresh. If they cannot be loaded, only the built-in rules apply.
     */
    Future<StatementClassifier> classifierFor(String database) {
        StatementClassifier known = classifiers.get(database);
        if (known != null) {
            return Future.succeededFuture(known);
        }
        return catalogs.load(database).otherwise(e -> {
            LOG.warnf("cannot load the volatile functions of database %s: %s", database, e.getMessage());
            return FunctionCatalog.NONE;
        }).map(catalog -> {
            functionCatalogs.put(database, catalog);
            return classifiers.computeIfAbsent(database, db -> new StatementClassifier(() -> functionCatalogs.get(db)));
        });
    }

    /**
     * Once the topology records another primary, every server connection to the former one is
     * closed: a session-mode, pinned or in-transaction client would otherwise keep writing to a
     * server that is no longer the primary (fenced, or cut off and not yet stopped). New
     * transactions already go to the new primary ({@link #choose}).
     */
    private void followPrimary() {
        Topology t = topology.current();
        if (t == null) {
            return;
        }
        ServerAddress now = t.primary();
        ServerAddress former = lastPrimary;
        lastPrimary = now;
        if (former != null && !former.equals(now)) {
            int closed = pools.cutOff(former);
            if (closed > 0) {
                LOG.warnf("primary is now %s: closed %d server connections to the former primary %s", now, closed, former);
            } else {
                LOG.infof("primary is now %s (was %s)", now, former);
            }
        }
    }

    private void refreshCatalogs() {
        for (String db : List.copyOf(classifiers.keySet())) {
            catalogs.load(db).onSuccess(c -> functionCatalogs.put(db, c));
        }
    }

    /**
     * Listens on {@code host:port} (0 picks a free port); the future gives the port.
     *
     * @param primaryOnly send everything to the primary (the read-write endpoint) instead of splitting reads off
     */
    public Future<Integer> listen(String host, int port, boolean primaryOnly) {
        Promise<Integer> promise = Promise.promise();
        context.runOnContext(v -> {
            NetServerOptions options = new NetServerOptions().setHost(host).setPort(port).setTcpNoDelay(true);
            if (tls.enabled()) {
                // TLS starts after the SSLRequest exchange, so the server is not ssl from the first byte
                options.setSsl(false).setKeyCertOptions(new PemKeyCertOptions().setCertPath(tls.certPath()).setKeyPath(tls.keyPath()));
            }
            NetServer server = vertx.createNetServer(options);
            server.connectHandler(socket -> new ClientSession(this, socket, primaryOnly).start());
            server.listen().onSuccess(s -> {
                servers.add(s);
                LOG.infof("router listening on %s:%d (%s)", host, s.actualPort(), primaryOnly ? "read-write, primary only" : "read/write split");
                promise.complete(s.actualPort());
            }).onFailure(promise::fail);
        });
        return promise.future();
    }

    /** Opens the admin console (database {@code database}) to these roles; call before {@link #listen}. */
    public Router adminConsole(String database, java.util.Set<String> users) {
        this.adminDatabase = database;
        this.adminUsers = java.util.Set.copyOf(users);
        return this;
    }

    /** The admin console's database, or PgBouncer's ({@link PgBouncerConsole}) for tools written against PgBouncer. */
    boolean isAdminDatabase(String database) {
        return adminDatabase.equals(database) || PgBouncerConsole.DATABASE.equals(database);
    }

    /** The traffic counters of one database's clients, created at its first login. */
    DatabaseStats statsFor(String database) {
        return databaseStats.computeIfAbsent(database, d -> new DatabaseStats());
    }

    /** Every database's counters; read on the router's loop. */
    Map<String, DatabaseStats> databaseStats() {
        return databaseStats;
    }

    /** Whether new transactions wait for {@link #resume()}. */
    boolean paused() {
        return paused;
    }

    boolean isAdmin(String user) {
        return adminUsers.contains(user);
    }

    void sessionOpened(ClientSession s) {
        sessions.add(s);
    }

    void sessionClosed(ClientSession s) {
        sessions.remove(s);
    }

    List<ClientSession> sessions() {
        return List.copyOf(sessions);
    }

    /** Offers TLS to clients (and requires it if asked); call before {@link #listen}. */
    public Router clientTls(ClientTls tls) {
        this.tls = tls;
        return this;
    }

    public Future<Void> close() {
        return onLoop(() -> {
            vertx.cancelTimer(catalogRefresh);
            vertx.cancelTimer(primaryWatch);
            if (replay != null) {
                replay.close();
                replay = null;
            }
            servers.forEach(NetServer::close);
            servers.clear();
            pools.close();
            auth.close();
            return null;
        });
    }

    /**
     * Starts the router's own polling of the servers: every {@code interval} each standby's replay
     * position and the primary's WAL position, asked by the lookup role over dedicated
     * connections. From then on only healthy standbys within the lag limit get reads, and
     * read-your-writes works when the settings ask for it: after a client's write commits, its
     * reads go only to standbys that have replayed that commit, waiting at most {@code wait} for
     * one to get there before going to the primary.
     */
    public Future<Void> trackStandbys(java.util.function.Supplier<io.pgha.router.topology.LookupCredentials> credentials,
                                      String database, java.time.Duration interval, java.time.Duration wait) {
        return onLoop(() -> {
            replayWaitNanos = wait.toNanos();
            io.pgha.router.topology.ReplayTracker t = new io.pgha.router.topology.ReplayTracker(vertx, topology::current, credentials,
                    database, events::standbyStates);
            t.start(interval);
            replay = t;
            return null;
        });
    }

    /** Whether read-your-writes is on now: asked per transaction, since the settings can change. */
    boolean readYourWrites() {
        return replay != null && settings.readYourWrites();
    }

    /**
     * Applies new settings without dropping anyone: pool size, the client limit, read policy, lag
     * limit and read-your-writes take effect for the next transaction or client; the pool mode for
     * clients that connect from now on (a session keeps the mode it started with). The rest
     * (message size, timeouts, TLS) is fixed when the router starts, and a change is logged and
     * ignored.
     */
    public Future<Void> reconfigure(RouterSettings next) {
        return onLoop(() -> {
            RouterSettings before = settings;
            RouterSettings live = before.withPoolMode(next.poolMode()).withPoolSize(next.poolSize())
                    .withMaxClientConnections(next.maxClientConnections()).withReadPolicy(next.readPolicy())
                    .withMaxReplicaLagBytes(next.maxReplicaLagBytes()).withReadYourWrites(next.readYourWrites());
            if (!live.equals(next)) {
                LOG.warnf("only pool mode, pool size, client limit, read policy, lag limit and read-your-writes change "
                        + "while the router runs; restart it for the rest of %s", next);
            }
            if (live.equals(before)) {
                return null;
            }
            if (live.readYourWrites() && !before.readYourWrites() && replay == null) {
                LOG.warn("read-your-writes is asked for but the router does not poll its standbys: reads are not held back");
            }
            pools.resize(live.poolSize());
            settings = live;
            LOG.infof("settings now: pool mode %s (new clients), pool size %d, max clients %d, reads %s, max lag %d bytes, read-your-writes %s",
                    live.poolMode(), live.poolSize(), live.maxClientConnections(), live.readPolicy(), live.maxReplicaLagBytes(),
                    live.readYourWrites());
            return null;
        });
    }

    /** Runs {@code task} on the router's event loop. */
    <T> Future<T> onLoop(Callable<T> task) {
        Promise<T> p = Promise.promise();
        context.runOnContext(v -> {
            try {
                p.complete(task.call());
            } catch (Exception e) {
                p.fail(e);
            }
        });
        return p.future();
    }

    /**
     * Stops lending server connections (PgBouncer's PAUSE): new transactions wait, transactions in
     * flight finish. The future completes when no client holds a server connection any more
     * (pinned clients hold theirs until they disconnect). For a planned switchover: pause, switch
     * the topology, {@link #resume()} — clients see a delay, not errors.
     */
    public Future<Void> pause() {
        Promise<Void> drained = Promise.promise();
        context.runOnContext(v -> {
            paused = true;
            if (attached == 0) {
                drained.complete();
            } else {
                drainWaiters.add(drained);
            }
        });
        return drained.future();
    }

    /** Lends server connections again; waiting transactions start in arrival order. */
    public Future<Void> resume() {
        return onLoop(() -> {
            paused = false;
            while (!paused && !pausedAcquires.isEmpty()) {
                pausedAcquires.poll().run();
            }
            return null;
        });
    }

    /** Whether a transaction may start now; while paused it waits ({@link #admitLater}). */
    boolean admitting() {
        return !paused;
    }

    /** Runs {@code acquire} after {@link #resume()}, in arrival order. */
    void admitLater(Runnable acquire) {
        pausedAcquires.add(acquire);
    }

    /** Transactions waiting for {@link #resume()}; read on the router's loop. */
    public int pausedTransactions() {
        return pausedAcquires.size();
    }

    /** Reads a number on the router's event loop (for tests and admin views). */
    public int onLoopCount(java.util.function.IntSupplier supplier) {
        try {
            return onLoop(supplier::getAsInt).toCompletionStage().toCompletableFuture().get(5, java.util.concurrent.TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    void attachedServer() {
        attached++;
    }

    void detachedServer() {
        attached--;
        if (attached == 0 && !drainWaiters.isEmpty()) {
            List<Promise<Void>> done = List.copyOf(drainWaiters);
            drainWaiters.clear();
            done.forEach(Promise::tryComplete);
        }
    }

    /** The server for a new transaction: the primary, or a standby that is not known to be down. */
    ServerAddress choose(Route route, boolean primaryOnly) {
        return choose(route, primaryOnly, 0);
    }

    /**
     * The server for a new transaction ({@link ServerChoice#choose}); with {@code readAfter} > 0
     * (read-your-writes) only a standby known to have replayed that far will do.
     */
    ServerAddress choose(Route route, boolean primaryOnly, long readAfter) {
        return choice.choose(route, primaryOnly, settings.readPolicy(), topology.current(), readAfter, standbyView);
    }

    /** The standbys as the router sees them: refusals it met and, when it polls, their health, lag and replay. */
    private final ServerChoice.Standbys standbyView = new ServerChoice.Standbys() {
        @Override
        public boolean eligible(ServerAddress standby) {
            if (pools.isDown(standby)) {
                return false;
            }
            if (replay == null) {
                return true;
            }
            StandbyState state = replay.state(standby);
            long maxLag = settings.maxReplicaLagBytes();
            return state.healthy() && (maxLag < 0 || state.lagBytes() <= maxLag);
        }

        @Override
        public long replayed(ServerAddress standby) {
            return replay == null ? -1 : replay.replayed(standby);
        }
    };

    /** How long a cancel may take to reach the server before the router gives it up. */
    static final long CANCEL_DELIVERY_MS = 5_000;

    /**
     * Forwards a client's CancelRequest to the server backend running its query right now. That
     * connection is not lent to anyone else until the server has taken the cancel (it closes the
     * cancel connection once it has signalled the backend): otherwise, in transaction pooling, the
     * next client's query could be the one cancelled.
     */
    void cancel(int processId, int secretKey) {
        ClientSession session = cancelKeys.get(key(processId, secretKey));
        ServerConnection server = session == null ? null : session.server();
        if (server == null) {
            return;
        }
        server.cancelStarted();
        int pid = server.backendPid();
        int secret = server.backendSecret();
        pools.netClient().connect(server.key().server().port(), server.key().server().host()).onComplete(ar -> {
            if (ar.failed()) {
                server.cancelDone();
                return;
            }
            io.vertx.core.net.NetSocket s = ar.result();
            long giveUp = vertx.setTimer(CANCEL_DELIVERY_MS, t -> s.close());
            s.closeHandler(v -> {
                vertx.cancelTimer(giveUp);
                server.cancelDone();
            });
            s.write(PgMessages.cancelRequest(pid, secret));
        });
    }

    static long key(int processId, int secretKey) {
        return ((long) processId << 32) | (secretKey & 0xffffffffL);
    }

    boolean admitClient() {
        if (clients.incrementAndGet() > settings.maxClientConnections()) {
            clients.decrementAndGet();
            return false;
        }
        events.clientConnected();
        return true;
    }

    void clientGone() {
        clients.decrementAndGet();
        events.clientDisconnected();
    }

    public int clientCount() {
        return clients.get();
    }

    public PoolManager pools() {
        return pools;
    }

    public RouterSettings settings() {
        return settings;
    }
}
