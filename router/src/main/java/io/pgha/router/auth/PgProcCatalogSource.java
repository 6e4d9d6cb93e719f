package io.pgha.router.auth;

import io.pgha.router.routing.FunctionCatalog;
import io.pgha.router.routing.FunctionCatalogSource;
import io.pgha.router.topology.LookupCredentials;
import io.pgha.router.topology.ServerAddress;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgConnection;
import io.vertx.sqlclient.Row;

import java.util.HashSet;
import java.util.Set;
import java.util.function.Supplier;

/**
 * Reads the user functions marked VOLATILE (outside pg_catalog and information_schema) from
 * {@code pg_proc} on the primary, as the router's lookup role (pg_proc is readable by any role).
 */
public final class PgProcCatalogSource implements FunctionCatalogSource {
    static final String QUERY = "SELECT n.nspname, p.proname FROM pg_catalog.pg_proc p"
            + " JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace"
            + " WHERE p.provolatile = 'v' AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'";

    private final Vertx vertx;
    private final Supplier<ServerAddress> primary;
    private final Supplier<LookupCredentials> credentials;

    public PgProcCatalogSource(Vertx vertx, Supplier<ServerAddress> primary, Supplier<LookupCredentials> credentials) {
        this.vertx = vertx;
        this.primary = primary;
        this.credentials = credentials;
    }

    @Override
    public Future<FunctionCatalog> load(String database) {
        return LookupCredentials.connectOptions(credentials, primary.get(), database)
                .compose(options -> PgConnection.connect(vertx, options))
                .compose(conn -> conn.query(QUERY).execute()
                .eventually(() -> conn.close())
                .map(rows -> {
                    Set<String> names = new HashSet<>();
                    for (Row row : rows) {
                        names.add(row.getString(0) + "." + row.getString(1));
                    }
                    return FunctionCatalog.of(names);
                }));
    }
}
