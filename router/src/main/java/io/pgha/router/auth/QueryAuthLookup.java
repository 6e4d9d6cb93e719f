package io.pgha.router.auth;

import io.pgha.api.RouterAuth;
import io.pgha.router.topology.LookupCredentials;
import io.pgha.router.topology.ServerAddress;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgBuilder;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.Tuple;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * Looks verifiers up the way PgBouncer's auth_query does: a dedicated, least-privileged role
 * calls a SECURITY DEFINER function ({@link RouterAuth}) on the primary, over a small pool of at
 * most {@link #MAX_SESSIONS} server sessions, however many logins arrive at once. Found verifiers
 * are cached for a while. A role that was not found is remembered for {@link #MISS_TTL}, and that
 * answer is used while every look-up session is busy: a flood of logins with made-up names then
 * costs one query per name every few seconds, while in a quiet moment a role created with SQL can
 * log in at once (and under a flood within {@link #MISS_TTL}). Concurrent look-ups of one name
 * share one query. Runs on the router's event loop only.
 */
public final class QueryAuthLookup implements AuthLookup {
    /** Server sessions the look-ups may hold at once. */
    public static final int MAX_SESSIONS = 10;
    /** How long a role that was not found is not asked for again. */
    public static final Duration MISS_TTL = Duration.ofSeconds(3);
    /** The pool's name in the SQL client's metrics. */
    private static final String POOL_NAME = "pgha-router-auth-lookup";
    /** A pooled look-up session idle this long is closed. */
    private static final Duration SESSION_IDLE = Duration.ofSeconds(60);

    private record Entry(Optional<ScramVerifier> verifier, long expiresAt) {
    }

    private final Vertx vertx;
    private final Supplier<ServerAddress> primary;
    private final String database;
    private final Supplier<LookupCredentials> credentials;
    private final long ttlNanos;
    private final Map<String, Entry> cache = new HashMap<>();
    private final Map<String, Future<Optional<ScramVerifier>>> inFlight = new HashMap<>();
    /** Look-ups sent and not answered yet. */
    private int asking;
    private Pool pool;
    /** What {@link #pool} connects to and as whom; a new primary or new credentials get a new pool. */
    private PgConnectOptions poolTarget;

    public QueryAuthLookup(Vertx vertx, Supplier<ServerAddress> primary, String database,
                           Supplier<LookupCredentials> credentials, Duration ttl) {
        this.vertx = vertx;
        this.primary = primary;
        this.database = database;
        this.credentials = credentials;
        this.ttlNanos = ttl.toNanos();
    }

    @Override
    public Future<Optional<ScramVerifier>> lookup(String user) {
        Entry e = cache.get(user);
        if (e != null) {
            if (e.expiresAt - System.nanoTime() <= 0) {
                cache.remove(user);
            } else if (e.verifier.isPresent() || asking >= MAX_SESSIONS) {
                return Future.succeededFuture(e.verifier);
            }
        }
        Future<Optional<ScramVerifier>> pending = inFlight.get(user);
        if (pending != null) {
            return pending;
        }
        Future<Optional<ScramVerifier>> asked = LookupCredentials.connectOptions(credentials, primary.get(), database)
                .compose(options -> pool(options).preparedQuery(RouterAuth.QUERY).execute(Tuple.of(user)))
                .map((RowSet<Row> rows) -> {
                    Optional<ScramVerifier> v = Optional.empty();
                    for (Row row : rows) {
                        v = ScramVerifier.parse(row.getString(0));
                    }
                    long ttl = v.isPresent() ? ttlNanos : MISS_TTL.toNanos();
                    cache.put(user, new Entry(v, System.nanoTime() + ttl));
                    return v;
                });
        inFlight.put(user, asked);
        asking++;
        asked.onComplete(ar -> {
            asking--;
            inFlight.remove(user);
        });
        return asked;
    }

    private Pool pool(PgConnectOptions options) {
        if (pool == null || !options.toJson().equals(poolTarget.toJson())) {
            if (pool != null) {
                pool.close();
            }
            poolTarget = options;
            pool = PgBuilder.pool()
                    .with(new PoolOptions().setName(POOL_NAME).setMaxSize(MAX_SESSIONS).setIdleTimeout((int) SESSION_IDLE.toSeconds())
                            .setIdleTimeoutUnit(java.util.concurrent.TimeUnit.SECONDS))
                    .connectingTo(options).using(vertx).build();
        }
        return pool;
    }

    @Override
    public void invalidate(String user) {
        // a miss stays cached: a failed login of an unknown role must not cost a query each time
        Entry e = cache.get(user);
        if (e != null && e.verifier.isPresent()) {
            cache.remove(user);
        }
    }

    /** Closes the look-up sessions. */
    public void close() {
        if (pool != null) {
            pool.close();
            pool = null;
        }
    }
}
