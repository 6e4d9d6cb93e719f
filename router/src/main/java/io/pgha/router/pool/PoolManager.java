package io.pgha.router.pool;

import io.pgha.router.auth.ClientKeys;
import io.pgha.router.topology.ServerAddress;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.net.NetClient;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.NetClientOptions;
import io.vertx.core.net.PemTrustOptions;

import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * All pools of the router, the SCRAM keys to open their connections with, the parameters a
 * client is greeted with per role and database, and which servers recently refused connections.
 * Runs on the router's event loop; the pool list may be read from elsewhere for metrics.
 */
public final class PoolManager {
    private final Vertx vertx;
    private final ServerTls serverTls;
    /** Whether a server's certificate must name its instance (a CA is configured). */
    private final boolean verifyNames;
    private final NetClient netClient;
    private int poolSize;
    private final long waitTimeoutMs;
    private final long idleTimeoutNanos;
    private final long downNanos;
    private final int maxMessageSize;
    private final Map<PoolKey, ServerPool> pools = new ConcurrentHashMap<>();
    private final Map<String, ClientKeys> keys = new HashMap<>();
    private final Map<ServerAddress, Long> downUntil = new HashMap<>();
    /** Every open server connection by server, idle or lent, so that all of one server's can be closed at once. */
    private final Map<ServerAddress, Set<ServerConnection>> open = new HashMap<>();
    /** How often each server was {@link #cutOff}: a connection whose opening began before a cut-off is closed too. */
    private final Map<ServerAddress, Integer> cutOffs = new HashMap<>();
    private final PoolStats stats = new PoolStats();
    private final long reaper;

    /**
     * @param serverCa the CA certificate (PEM) of the servers: TLS is then required, the chain
     *                 must lead to it and the certificate must name the server's instance
     *                 ({@link ServerAddress#name}); null: {@code serverTls} without verification
     */
    public PoolManager(Vertx vertx, int poolSize, Duration waitTimeout, Duration idleTimeout, Duration downAfterFailure, int maxMessageSize,
                       ServerTls serverTls, String serverCa) {
        this.vertx = vertx;
        this.verifyNames = serverCa != null;
        this.serverTls = verifyNames ? ServerTls.REQUIRE : serverTls;
        // TLS starts after the SSLRequest exchange. The host name check is off in the TLS layer because the
        // host is a pod IP: ServerConnection checks the instance's name once the handshake verified the chain.
        // Without a CA, like libpq's sslmode=require, the certificate is not verified at all.
        NetClientOptions options = new NetClientOptions().setConnectTimeout(5000).setTcpNoDelay(true)
                .setSsl(false).setHostnameVerificationAlgorithm("");
        if (verifyNames) {
            options.setTrustOptions(new PemTrustOptions().addCertValue(Buffer.buffer(serverCa)));
        } else {
            options.setTrustAll(serverTls != ServerTls.DISABLE);
        }
        this.netClient = vertx.createNetClient(options);
        this.poolSize = poolSize;
        this.waitTimeoutMs = waitTimeout.toMillis();
        this.idleTimeoutNanos = idleTimeout.toNanos();
        this.downNanos = downAfterFailure.toNanos();
        this.maxMessageSize = maxMessageSize;
        long period = Math.max(100, Math.min(5000, idleTimeout.toMillis() / 2));
        this.reaper = vertx.setPeriodic(period, t -> pools.values().forEach(p -> p.closeIdle(idleTimeoutNanos)));
    }

    public ServerPool pool(PoolKey key) {
        return pools.computeIfAbsent(key, k -> new ServerPool(vertx, k, poolSize, waitTimeoutMs, this::open, stats));
    }

    /** A new size for every pool, now and later ones: see {@link ServerPool#resize}. */
    public void resize(int size) {
        poolSize = size;
        pools.values().forEach(p -> p.resize(size));
    }

    private Future<ServerConnection> open(PoolKey key) {
        ClientKeys k = keys.get(key.user());
        ServerAddress server = key.server();
        int cutOffsBefore = cutOffs.getOrDefault(server, 0);
        return ServerConnection.open(netClient, key, k, maxMessageSize, serverTls, verifyNames)
                .onFailure(e -> {
                    if (!(e instanceof ServerConnection.LoginException le && le.errorResponse() != null)) {
                        downUntil.put(server, System.nanoTime() + downNanos);
                    }
                })
                .onSuccess(c -> downUntil.remove(server))
                .compose(c -> {
                    if (cutOffs.getOrDefault(server, 0) != cutOffsBefore) {
                        c.close();
                        return Future.failedFuture(cutOffCause(server));
                    }
                    Set<ServerConnection> ofServer = open.computeIfAbsent(server, x -> new HashSet<>());
                    ofServer.add(c);
                    c.ended().onComplete(v -> {
                        ofServer.remove(c);
                        if (ofServer.isEmpty()) {
                            open.remove(server, ofServer);
                        }
                    });
                    return Future.succeededFuture(c);
                });
    }

    /**
     * Closes every connection to {@code server}, whatever it is doing: idle, being reset, lent to
     * a client in a transaction, held by a session-mode or pinned client (which is told its
     * server connection was lost), or still being opened; clients waiting for one of its pools
     * get an error. For a former primary: no client may keep writing to it once the cluster
     * records another. Returns how many open connections were closed.
     */
    public int cutOff(ServerAddress server) {
        cutOffs.merge(server, 1, Integer::sum);
        RuntimeException cause = cutOffCause(server);
        pools.values().stream().filter(p -> p.key().server().equals(server)).forEach(p -> p.failWaiters(cause));
        Set<ServerConnection> ofServer = open.remove(server);
        if (ofServer == null) {
            return 0;
        }
        List<ServerConnection> closing = List.copyOf(ofServer);
        closing.forEach(ServerConnection::close);
        return closing.size();
    }

    private static RuntimeException cutOffCause(ServerAddress server) {
        return new IllegalStateException("server " + server + " is no longer the primary");
    }

    /** Remembers the keys a client of {@code user} authenticated with, for opening connections. */
    public void rememberKeys(String user, ClientKeys clientKeys) {
        keys.put(user, clientKeys);
    }

    /** Whether a server refused a connection recently and should be avoided for reads. */
    public boolean isDown(ServerAddress server) {
        Long until = downUntil.get(server);
        if (until == null) {
            return false;
        }
        if (System.nanoTime() - until > 0) {
            downUntil.remove(server);
            return false;
        }
        return true;
    }

    public void markDown(ServerAddress server) {
        downUntil.put(server, System.nanoTime() + downNanos);
    }

    public List<ServerPool> pools() {
        return List.copyOf(pools.values());
    }

    public PoolStats stats() {
        return stats;
    }

    public NetClient netClient() {
        return netClient;
    }

    public void close() {
        vertx.cancelTimer(reaper);
        pools.values().forEach(ServerPool::closeAllIdle);
        netClient.close();
    }
}
