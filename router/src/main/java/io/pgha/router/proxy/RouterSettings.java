package io.pgha.router.proxy;

import io.pgha.router.pool.PoolMode;
import io.pgha.router.pool.ServerTls;

import java.time.Duration;

/**
 * The router's tunables, independent of how they are configured.
 *
 * @param poolMode transaction (default) or session pooling
 * @param poolSize server connections per role, database and server
 * @param maxClientConnections clients beyond this are refused with SQLSTATE 53300
 * @param maxMessageSize the largest client or server message held in memory whole (rows and COPY
 *        data are streamed through, whatever their size)
 * @param waitTimeout how long a client waits for a server connection before it is told so and disconnected
 * @param idleTimeout idle server connections older than this are closed
 * @param serverDownFor after a failed connection a standby gets no reads for this long
 * @param functionRefresh how often the volatile user functions are read again from pg_proc
 * @param maxReplicaLagBytes standbys whose replay lags more than this get no reads (negative: no limit)
 * @param serverTls TLS towards the servers
 * @param maxPreparedStatements statements the router keeps prepared per server connection; the
 *        least recently used one is closed to make room
 * @param readPolicy where reads go: standbys (default), spread over the primary and standbys, or the primary
 * @param readYourWrites after a client's write, its reads go only to servers that replayed it
 *        (needs the router's standby polling, {@link Router#trackStandbys})
 */
public record RouterSettings(PoolMode poolMode, int poolSize, int maxClientConnections, int maxMessageSize,
                             Duration waitTimeout, Duration idleTimeout, Duration serverDownFor, Duration functionRefresh,
                             long maxReplicaLagBytes, ServerTls serverTls, int maxPreparedStatements,
                             ReadPolicy readPolicy, boolean readYourWrites) {
    public static RouterSettings defaults() {
        return new RouterSettings(PoolMode.TRANSACTION, 20, 1000, 16 * 1024 * 1024,
                Duration.ofSeconds(30), Duration.ofSeconds(600), Duration.ofSeconds(2), Duration.ofSeconds(30), 16L * 1024 * 1024, ServerTls.PREFER, 200,
                ReadPolicy.STANDBY, true);
    }

    public RouterSettings withFunctionRefresh(Duration d) {
        return new RouterSettings(poolMode, poolSize, maxClientConnections, maxMessageSize, waitTimeout, idleTimeout, serverDownFor, d, maxReplicaLagBytes, serverTls, maxPreparedStatements, readPolicy, readYourWrites);
    }

    public RouterSettings withMaxReplicaLagBytes(long bytes) {
        return new RouterSettings(poolMode, poolSize, maxClientConnections, maxMessageSize, waitTimeout, idleTimeout, serverDownFor,
                functionRefresh, bytes, serverTls, maxPreparedStatements, readPolicy, readYourWrites);
    }

    public RouterSettings withServerTls(ServerTls tls) {
        return new RouterSettings(poolMode, poolSize, maxClientConnections, maxMessageSize, waitTimeout, idleTimeout, serverDownFor,
                functionRefresh, maxReplicaLagBytes, tls, maxPreparedStatements, readPolicy, readYourWrites);
    }

    public RouterSettings withMaxPreparedStatements(int max) {
        return new RouterSettings(poolMode, poolSize, maxClientConnections, maxMessageSize, waitTimeout, idleTimeout, serverDownFor,
                functionRefresh, maxReplicaLagBytes, serverTls, max, readPolicy, readYourWrites);
    }

    public RouterSettings withPoolMode(PoolMode mode) {
        return new RouterSettings(mode, poolSize, maxClientConnections, maxMessageSize, waitTimeout, idleTimeout, serverDownFor, functionRefresh, maxReplicaLagBytes, serverTls, maxPreparedStatements, readPolicy, readYourWrites);
    }

    public RouterSettings withPoolSize(int size) {
        return new RouterSettings(poolMode, size, maxClientConnections, maxMessageSize, waitTimeout, idleTimeout, serverDownFor, functionRefresh, maxReplicaLagBytes, serverTls, maxPreparedStatements, readPolicy, readYourWrites);
    }

    public RouterSettings withMaxClientConnections(int max) {
        return new RouterSettings(poolMode, poolSize, max, maxMessageSize, waitTimeout, idleTimeout, serverDownFor, functionRefresh, maxReplicaLagBytes, serverTls, maxPreparedStatements, readPolicy, readYourWrites);
    }

    public RouterSettings withMaxMessageSize(int max) {
        return new RouterSettings(poolMode, poolSize, maxClientConnections, max, waitTimeout, idleTimeout, serverDownFor, functionRefresh, maxReplicaLagBytes, serverTls, maxPreparedStatements, readPolicy, readYourWrites);
    }

    public RouterSettings withWaitTimeout(Duration d) {
        return new RouterSettings(poolMode, poolSize, maxClientConnections, maxMessageSize, d, idleTimeout, serverDownFor, functionRefresh, maxReplicaLagBytes, serverTls, maxPreparedStatements, readPolicy, readYourWrites);
    }

    public RouterSettings withIdleTimeout(Duration d) {
        return new RouterSettings(poolMode, poolSize, maxClientConnections, maxMessageSize, waitTimeout, d, serverDownFor, functionRefresh, maxReplicaLagBytes, serverTls, maxPreparedStatements, readPolicy, readYourWrites);
    }

    public RouterSettings withReadPolicy(ReadPolicy policy) {
        return new RouterSettings(poolMode, poolSize, maxClientConnections, maxMessageSize, waitTimeout, idleTimeout, serverDownFor, functionRefresh, maxReplicaLagBytes, serverTls, maxPreparedStatements, policy, readYourWrites);
    }

    public RouterSettings withReadYourWrites(boolean on) {
        return new RouterSettings(poolMode, poolSize, maxClientConnections, maxMessageSize, waitTimeout, idleTimeout, serverDownFor, functionRefresh, maxReplicaLagBytes, serverTls, maxPreparedStatements, readPolicy, on);
    }
}
