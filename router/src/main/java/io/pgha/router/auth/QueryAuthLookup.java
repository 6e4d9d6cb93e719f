package io.pgha.router.auth;

import io.pgha.api.RouterAuth;
import io.pgha.router.topology.ServerAddress;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgConnection;
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
 * calls a SECURITY DEFINER function ({@link RouterAuth}) on the primary. Found verifiers
 * are cached for a while; unknown roles are not cached, so a role created after the router
 * started can log in at once. Runs on the router's event loop only.
 */
public final class QueryAuthLookup implements AuthLookup {
    private record Entry(ScramVerifier verifier, long expiresAt) {
    }

    private final Vertx vertx;
    private final Supplier<ServerAddress> primary;
    private final String database;
    private final Supplier<LookupCredentials> credentials;
    private final long ttlNanos;
    private final Map<String, Entry> cache = new HashMap<>();

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
        if (e != null && e.expiresAt - System.nanoTime() > 0) {
            return Future.succeededFuture(Optional.of(e.verifier));
        }
        return LookupCredentials.connectOptions(credentials, primary.get(), database)
                .compose(options -> PgConnection.connect(vertx, options))
                .compose(conn -> conn.preparedQuery(RouterAuth.QUERY).execute(Tuple.of(user))
                .eventually(() -> conn.close())
                .map((RowSet<Row> rows) -> {
                    Optional<ScramVerifier> v = Optional.empty();
                    for (Row row : rows) {
                        v = ScramVerifier.parse(row.getString(0));
                    }
                    v.ifPresent(found -> cache.put(user, new Entry(found, System.nanoTime() + ttlNanos)));
                    return v;
                }));
    }

    @Override
    public void invalidate(String user) {
        cache.remove(user);
    }
}
