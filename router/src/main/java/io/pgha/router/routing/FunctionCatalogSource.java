package io.pgha.router.routing;

import io.vertx.core.Future;

/** Loads the volatile user functions of one database (functions live per database). */
public interface FunctionCatalogSource {
    Future<FunctionCatalog> load(String database);

    FunctionCatalogSource NONE = database -> Future.succeededFuture(FunctionCatalog.NONE);
}
