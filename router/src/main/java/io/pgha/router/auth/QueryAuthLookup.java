package io.pgha.router.auth;

import io.pgha.router.topology.ServerAddress;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgConnectOptions;
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
 * calls a SECURITY DEFINER function (see {@link #FUNCTION_SQL}) on the primary. Found verifiers
 * are cached for a while; unknown roles are not cached, so a role created after the router
 * started can log in at once. Runs on the router's event loop only.
 */
public final class QueryAuthLookup implements AuthLookup {
    /** The lookup function, created by whoever provisions the cluster (and by the tests). */
    public static final String FUNCTION_SQL = """
            CREATE SCHEMA IF NOT EXISTS pgha;
            CREATE OR REPLACE FUNCTION pgha.auth_lookup(i_username text, OUT passwd text)
              RETURNS text LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog AS
            $$ SELECT rolpassword FROM pg_catalog.pg_authid
               WHERE rolname = i_username AND rolcanlogin
                 AND (rolvaliduntil IS NULL OR rolvaliduntil > now()) $$;
            REVOKE ALL ON FUNCTION pgha.auth_lookup(text) FROM PUBLIC;
            """;

    /** Grants the lookup to the router's role. */
    public static String grantSql(String role) {
        String r = "\"" + role.replace("\"", "\"\"") + "\"";
        return "GRANT USAGE ON SCHEMA pgha TO " + r + "; GRANT EXECUTE ON FUNCTION pgha.auth_lookup(text) TO " + r + ";";
    }

    public static final String QUERY = "SELECT passwd FROM pgha.auth_lookup($1)";

    private record Entry(ScramVerifier verifier, long expiresAt) {
    }

    private final Vertx vertx;
    private final Supplier<ServerAddress> primary;
    private final String database;
    private final String authUser;
    private final String authPassword;
    private final long ttlNanos;
    private final Map<String, Entry> cache = new HashMap<>();

    public QueryAuthLookup(Vertx vertx, Supplier<ServerAddress> primary, String database, String authUser, String authPassword, Duration ttl) {
        this.vertx = vertx;
        this.primary = primary;
        this.database = database;
        this.authUser = authUser;
        this.authPassword = authPassword;
        this.ttlNanos = ttl.toNanos();
    }

    @Override
    public Future<Optional<ScramVerifier>> lookup(String user) {
        Entry e = cache.get(user);
        if (e != null && e.expiresAt - System.nanoTime() > 0) {
            return Future.succeededFuture(Optional.of(e.verifier));
        }
        ServerAddress at = primary.get();
        PgConnectOptions options = new PgConnectOptions().setHost(at.host()).setPort(at.port())
                .setDatabase(database).setUser(authUser).setPassword(authPassword).setConnectTimeout(5000);
        return PgConnection.connect(vertx, options).compose(conn -> conn.preparedQuery(QUERY).execute(Tuple.of(user))
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
