package io.pgha.router.pool;

import io.pgha.router.topology.ServerAddress;

/** One pool: server connections of one role to one database on one server. */
public record PoolKey(String user, String database, ServerAddress server) {
    @Override
    public String toString() {
        return user + "@" + server + "/" + database;
    }
}
