package io.pgha.router.topology;

import io.vertx.core.Future;
import io.vertx.pgclient.PgConnectOptions;

import java.util.function.Supplier;

/**
 * The least-privilege role the router connects as to look up verifiers and volatile functions.
 * Supplied on every use: in local mode the provisioner creates it after the router started.
 */
public record LookupCredentials(String user, String password) {
    @Override
    public String toString() {
        return "LookupCredentials[" + user + "]";
    }

    /**
     * Connection options for the lookup role at {@code at}, or a failed future while the
     * credentials do not exist yet (a cluster still bootstrapping: a later attempt works).
     */
    public static Future<PgConnectOptions> connectOptions(Supplier<LookupCredentials> credentials, ServerAddress at, String database) {
        LookupCredentials c;
        try {
            c = credentials.get();
        } catch (RuntimeException missing) {
            return Future.failedFuture(missing);
        }
        return Future.succeededFuture(new PgConnectOptions().setHost(at.host()).setPort(at.port()).setDatabase(database)
                .setUser(c.user()).setPassword(c.password()).setConnectTimeout(5000));
    }

    public static Supplier<LookupCredentials> fixed(String user, String password) {
        LookupCredentials c = new LookupCredentials(user, password);
        return () -> c;
    }
}
