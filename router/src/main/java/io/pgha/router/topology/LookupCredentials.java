package io.pgha.router.topology;

import io.vertx.core.Future;
import io.pgha.api.tls.ServerIdentity;
import io.vertx.core.net.TrustOptions;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.SslMode;

import java.util.function.Supplier;

/**
 * The least-privilege role the router connects as to look up verifiers and volatile functions,
 * and the CA the servers' certificates must be signed by (null: no TLS verification, local mode).
 * Supplied on every use: in local mode the provisioner creates it after the router started.
 */
public record LookupCredentials(String user, String password, String trustedCa) {
    public LookupCredentials(String user, String password) {
        this(user, password, null);
    }

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
        PgConnectOptions options = new PgConnectOptions().setHost(at.host()).setPort(at.port()).setDatabase(database)
                .setUser(c.user()).setPassword(c.password()).setConnectTimeout(5000);
        if (c.trustedCa() != null) {
            if (at.name() == null) {
                return Future.failedFuture(new IllegalStateException("server " + at + " has no name to verify its certificate against"));
            }
            // the trust manager checks the chain and the instance's name: the host is a pod IP no certificate names
            options.setSslMode(SslMode.VERIFY_CA).setHostnameVerificationAlgorithm("")
                    .setTrustOptions(TrustOptions.wrap(ServerIdentity.trustManager(c.trustedCa(), at.name())));
        }
        return Future.succeededFuture(options);
    }

    /** Fixed credentials, servers not verified. */
    public static Supplier<LookupCredentials> fixed(String user, String password) {
        return fixed(user, password, null);
    }

    /** Fixed credentials; {@code trustedCa} null: no TLS verification. */
    public static Supplier<LookupCredentials> fixed(String user, String password, String trustedCa) {
        LookupCredentials c = new LookupCredentials(user, password, trustedCa);
        return () -> c;
    }
}
