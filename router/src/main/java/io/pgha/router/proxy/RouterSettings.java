package io.pgha.router.proxy;

import io.pgha.router.routing.ReadPolicy;
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
 * @param loginTimeout a client that has not logged in this long after connecting is disconnected
 *        (PgBouncer's client_login_timeout)
 * @param resetOnRelease reset every server connection with {@code DISCARD ALL} when a client gives
 *        it back, also in transaction pooling (PgBouncer's server_reset_query_always): for
 *        applications that change session state where the router cannot see it (in functions or
 *        {@code DO} blocks)
 * @param serverCa the CA certificate (PEM) servers must present a certificate of, naming their
 *        instance ({@link io.pgha.router.topology.ServerAddress#name}); TLS is then required. Null:
 *        as {@code serverTls} says, unverified
 */
public record RouterSettings(PoolMode poolMode, int poolSize, int maxClientConnections, int maxMessageSize,
                             Duration waitTimeout, Duration idleTimeout, Duration serverDownFor, Duration functionRefresh,
                             long maxReplicaLagBytes, ServerTls serverTls, int maxPreparedStatements,
                             ReadPolicy readPolicy, boolean readYourWrites, Duration loginTimeout, boolean resetOnRelease,
                             String serverCa) {
    public static RouterSettings defaults() {
        return new RouterSettings(PoolMode.TRANSACTION, 20, 1000, 16 * 1024 * 1024,
                Duration.ofSeconds(30), Duration.ofSeconds(600), Duration.ofSeconds(2), Duration.ofSeconds(30), 16L * 1024 * 1024, ServerTls.PREFER, 200,
                ReadPolicy.STANDBY, true, Duration.ofSeconds(60), false, null);
    }

    /** The fields as mutable copies: every {@code withX} changes one and builds the record again. */
    private static final class Fields {
        PoolMode poolMode;
        int poolSize;
        int maxClientConnections;
        int maxMessageSize;
        Duration waitTimeout;
        Duration idleTimeout;
        Duration serverDownFor;
        Duration functionRefresh;
        long maxReplicaLagBytes;
        ServerTls serverTls;
        int maxPreparedStatements;
        ReadPolicy readPolicy;
        boolean readYourWrites;
        Duration loginTimeout;
        boolean resetOnRelease;
        String serverCa;

        Fields(RouterSettings s) {
            poolMode = s.poolMode;
            poolSize = s.poolSize;
            maxClientConnections = s.maxClientConnections;
            maxMessageSize = s.maxMessageSize;
            waitTimeout = s.waitTimeout;
            idleTimeout = s.idleTimeout;
            serverDownFor = s.serverDownFor;
            functionRefresh = s.functionRefresh;
            maxReplicaLagBytes = s.maxReplicaLagBytes;
            serverTls = s.serverTls;
            maxPreparedStatements = s.maxPreparedStatements;
            readPolicy = s.readPolicy;
            readYourWrites = s.readYourWrites;
            loginTimeout = s.loginTimeout;
            resetOnRelease = s.resetOnRelease;
            serverCa = s.serverCa;
        }

        RouterSettings build() {
            return new RouterSettings(poolMode, poolSize, maxClientConnections, maxMessageSize, waitTimeout, idleTimeout, serverDownFor,
                    functionRefresh, maxReplicaLagBytes, serverTls, maxPreparedStatements, readPolicy, readYourWrites, loginTimeout,
                    resetOnRelease, serverCa);
        }
    }

    private RouterSettings with(java.util.function.Consumer<Fields> change) {
        Fields f = new Fields(this);
        change.accept(f);
        return f.build();
    }

    public RouterSettings withFunctionRefresh(Duration d) {
        return with(f -> f.functionRefresh = d);
    }

    public RouterSettings withMaxReplicaLagBytes(long bytes) {
        return with(f -> f.maxReplicaLagBytes = bytes);
    }

    public RouterSettings withServerTls(ServerTls tls) {
        return with(f -> f.serverTls = tls);
    }

    public RouterSettings withServerCa(String caPem) {
        return with(f -> f.serverCa = caPem);
    }

    public RouterSettings withMaxPreparedStatements(int max) {
        return with(f -> f.maxPreparedStatements = max);
    }

    public RouterSettings withPoolMode(PoolMode mode) {
        return with(f -> f.poolMode = mode);
    }

    public RouterSettings withPoolSize(int size) {
        return with(f -> f.poolSize = size);
    }

    public RouterSettings withMaxClientConnections(int max) {
        return with(f -> f.maxClientConnections = max);
    }

    public RouterSettings withMaxMessageSize(int max) {
        return with(f -> f.maxMessageSize = max);
    }

    public RouterSettings withWaitTimeout(Duration d) {
        return with(f -> f.waitTimeout = d);
    }

    public RouterSettings withIdleTimeout(Duration d) {
        return with(f -> f.idleTimeout = d);
    }

    public RouterSettings withReadPolicy(ReadPolicy policy) {
        return with(f -> f.readPolicy = policy);
    }

    public RouterSettings withReadYourWrites(boolean on) {
        return with(f -> f.readYourWrites = on);
    }

    public RouterSettings withLoginTimeout(Duration d) {
        return with(f -> f.loginTimeout = d);
    }

    public RouterSettings withResetOnRelease(boolean on) {
        return with(f -> f.resetOnRelease = on);
    }
}
