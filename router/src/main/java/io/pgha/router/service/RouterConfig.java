package io.pgha.router.service;

import io.pgha.router.pool.PoolMode;
import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

import java.time.Duration;
import java.util.List;
import java.util.Optional;

/** The router service's configuration ({@code pgha.router.*}). */
@ConfigMapping(prefix = "pgha.router")
public interface RouterConfig {
    /** Address both listeners bind to; loopback unless told otherwise. */
    @WithDefault("127.0.0.1")
    String host();

    /** The read/write-split listener ({@code PGHA_ROUTER_PORT}); 0 picks a free port. */
    int port();

    /** The read-write listener that sends everything to the primary ({@code PGHA_ROUTER_RW_PORT}); 0 picks a free port. */
    int rwPort();

    @WithDefault("transaction")
    PoolMode poolMode();

    /** Server connections per role, database and server. */
    @WithDefault("20")
    int poolSize();

    @WithDefault("1000")
    int maxClientConnections();

    /** Largest message held whole in memory, in bytes; rows and COPY data stream through. */
    @WithDefault("16777216")
    int maxMessageSize();

    @WithDefault("30s")
    Duration waitTimeout();

    @WithDefault("600s")
    Duration idleTimeout();

    /** A client that has not logged in this long after connecting is disconnected (PgBouncer's client_login_timeout). */
    @WithDefault("60s")
    Duration loginTimeout();

    /**
     * Reset every server connection with DISCARD ALL when a client gives it back, also in transaction
     * pooling (PgBouncer's server_reset_query_always): for applications that change session state
     * inside functions or DO blocks, where the router cannot see it.
     */
    @WithDefault("false")
    boolean serverResetAlways();

    /** How long a standby that refused a connection gets no reads. */
    @WithDefault("2s")
    Duration serverDownFor();

    /** How often the volatile user functions are read again from pg_proc. */
    @WithDefault("30s")
    Duration functionRefresh();

    /** Standbys whose replay lags more than this many bytes get no reads (negative: no limit). */
    @WithDefault("16777216")
    long maxReplicaLagBytes();

    Topology topology();

    Tls tls();

    /** Statements kept prepared per server connection; the least recently used is closed beyond. */
    @WithDefault("200")
    int maxPreparedStatements();

    /** Where the split listener sends reads: standby (default), any (primary and standbys in turn) or primary. */
    @WithDefault("standby")
    io.pgha.router.routing.ReadPolicy readPolicy();

    /** Read-your-writes: after a client's write, its reads go only to standbys that replayed it. */
    @WithDefault("true")
    boolean readYourWrites();

    /** How often the router asks each standby how far it has replayed, and the primary for its WAL position. */
    @WithDefault("50ms")
    Duration replayPollInterval();

    /** How long a read right after a write waits for a standby to replay it before it goes to the primary. */
    @WithDefault("10ms")
    Duration replayWait();

    /** TLS towards the servers: disable, prefer (default) or require; certificates are not verified unless server-ca-file is set. */
    @WithDefault("prefer")
    io.pgha.router.pool.ServerTls serverTls();

    /**
     * The CA certificate (PEM file) of the servers: when set, every server connection (pooled,
     * lookup, replay polling) requires TLS with a certificate signed by it that names the
     * instance (verify-full against the instance's name; the address is its pod IP). Set on
     * Kubernetes, where the provisioner mounts the cluster's CA certificate.
     */
    Optional<String> serverCaFile();

    Admin admin();

    /** The admin console (SHOW POOLS, PAUSE, RESUME, ...): a virtual database for admin roles. */
    interface Admin {
        @WithDefault("pgha")
        String database();

        /** Roles allowed in; none by default, which keeps the console closed. */
        Optional<List<String>> users();
    }

    /** TLS towards clients (PEM files); off without a certificate. */
    interface Tls {
        Optional<String> certPath();

        Optional<String> keyPath();

        /** Refuse clients that do not use TLS. */
        @WithDefault("false")
        boolean required();
    }

    Auth auth();

    /** Where the servers come from. */
    enum Source {
        /** {@code topology.primary} and {@code topology.standbys}, fixed (tests, a hand-made setup). */
        STATIC,
        /** The cluster in the local state directory ($PGHA_HOME), followed as it changes; set by the launcher. */
        LOCAL,
        /** The PostgresCluster {@code topology.cluster} in {@code topology.namespace}, watched; set by the provisioner. */
        KUBERNETES
    }

    /** The servers of the cluster. */
    interface Topology {
        @WithDefault("static")
        Source source();

        /** {@code host:port} of the primary. */
        String primary();

        /** {@code host:port} of each standby. */
        Optional<List<String>> standbys();

        /** kubernetes: the PostgresCluster to follow ({@code PGHA_CLUSTER}). */
        Optional<String> cluster();

        /** kubernetes: its namespace, the router's own ({@code PGHA_NAMESPACE}). */
        Optional<String> namespace();
    }

    /** The verifier lookup (PgBouncer's auth_user/auth_query). */
    interface Auth {
        @WithDefault("postgres")
        String database();

        @WithDefault("pgha_router_auth")
        String user();

        Optional<String> password();

        @WithDefault("30s")
        Duration cacheTtl();
    }
}
