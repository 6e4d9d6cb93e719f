package io.pgha.router.proxy;

import io.pgha.api.postgres.Scram;
import io.pgha.router.auth.ClientKeys;
import io.pgha.router.auth.ScramServerExchange;
import io.pgha.router.auth.ScramVerifier;
import io.pgha.router.pool.PoolKey;
import io.pgha.router.pool.ServerPool;
import io.pgha.router.protocol.FrontendMessages;
import io.pgha.router.protocol.MessageReader;
import io.pgha.router.protocol.PgMessages;
import io.pgha.router.protocol.PgProtocol;
import io.pgha.router.protocol.PgProtocol.Frontend;
import io.pgha.router.protocol.PgProtocol.SqlState;
import io.pgha.router.protocol.ProtocolException;
import io.pgha.router.protocol.StartupPacket;
import io.pgha.router.routing.Route;
import io.pgha.router.routing.StatementClassifier;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.NetSocket;
import org.jboss.logging.Logger;

import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * A client's way in, up to its first ReadyForQuery: SSLRequest and TLS, the startup packet, SCRAM
 * authentication against the role's verifier (or a decoy for an unknown role), the admin-console
 * check, and the greeting. It ends by handing the session an authenticated {@link Identity}; the
 * session's message loop never sees a client that has not logged in. Runs on the router's event
 * loop, like the session that owns it.
 */
final class ClientLogin {
    private static final Logger LOG = Logger.getLogger(ClientLogin.class);
    /** Cancel keys are secrets: whoever guesses one can cancel another client's queries. */
    private static final SecureRandom CANCEL_KEYS = new SecureRandom();
    /** Startup parameters that name who logs in, not session settings. */
    private static final Set<String> LOGIN_PARAMETERS = Set.of("user", "database");
    /** What the admin console tells a client about itself. */
    private static final Map<String, String> ADMIN_GREETING = Map.of("server_version", "15.0 (pgha router admin console)",
            "client_encoding", "UTF8", "DateStyle", "ISO, MDY", "integer_datetimes", "on", "standard_conforming_strings", "on",
            "TimeZone", "UTC");

    /** Who logged in: the role, its database, and its session parameters. */
    record Identity(String user, String database, boolean admin, SessionParameters parameters,
                    StatementClassifier classifier, int processId, int secretKey) {
    }

    private enum Step { STARTUP, SASL_INITIAL, SASL_CONTINUE, LOGIN }

    private final Router router;
    private final ClientSession session;
    private final NetSocket socket;
    private Step step = Step.STARTUP;
    private String user;
    private String database;
    /** Tracked session parameters as SQL text ({@code 'UTF8'}), to set on every lent connection. */
    private final Map<String, String> parameters = new LinkedHashMap<>();
    /** The same parameters as sent in the startup packet, for the ParameterStatus of the greeting. */
    private final Map<String, String> startupParameters = new LinkedHashMap<>();
    private Future<Optional<ScramVerifier>> verifier;
    private ScramServerExchange scram;
    private boolean knownUser;
    /** The client's SSLRequest is to be answered 'S' at the end of this read. */
    private boolean sslAccepted;
    /** The client asked for TLS and got it. */
    private boolean tlsActive;
    /** Closes the connection if the client has not logged in by then; -1 once it has. */
    private long loginTimer = -1;

    ClientLogin(Router router, ClientSession session, NetSocket socket) {
        this.router = router;
        this.session = session;
        this.socket = socket;
    }

    void start() {
        loginTimer = router.vertx.setTimer(Math.max(1, router.settings.loginTimeout().toMillis()), t -> timedOut());
    }

    /** The role named in the startup packet (null before it). */
    String user() {
        return user;
    }

    String database() {
        return database;
    }

    /** The connection is gone or logged in: the timer has nothing left to guard. */
    void stopTimer() {
        router.vertx.cancelTimer(loginTimer);
        loginTimer = -1;
    }

    /** Not logged in within the login timeout: a stalled or hostile client gives its slot back. */
    private void timedOut() {
        loginTimer = -1;
        if (!session.isReady() && !session.isClosed()) {
            router.events.authenticationFailed();
            session.fatal(SqlState.PROTOCOL_VIOLATION, "canceling authentication due to timeout");
        }
    }

    /** A message before login: a startup packet ({@code type} 0) or a SASL response. */
    void onMessage(byte type, Buffer message) {
        if (sslAccepted) {
            throw new ProtocolException("received unencrypted data after SSL request");
        }
        if (type == 0) {
            onStartup(StartupPacket.parse(message));
        } else {
            onAuthMessage(type, message);
        }
    }

    /**
     * The end of a read before login. An accepted SSLRequest is answered now, unless bytes follow it
     * in the same read: those would be taken as if they came over TLS (CVE-2021-23214), so they are
     * refused before answering. Returns whether the read was handled here.
     */
    boolean endOfRead(int bufferedBytes) {
        if (!sslAccepted) {
            return false;
        }
        if (bufferedBytes > 0) {
            router.events.clientError(SqlState.PROTOCOL_VIOLATION);
            session.fatal(SqlState.PROTOCOL_VIOLATION, "received unencrypted data after SSL request");
            return true;
        }
        sslAccepted = false;
        tlsActive = true;
        session.flushAll();
        socket.write(Buffer.buffer(1).appendByte(PgProtocol.SSL_SUPPORTED));
        socket.upgradeToSsl().onFailure(e -> session.close());
        return true;
    }

    private void onStartup(StartupPacket packet) {
        if (step != Step.STARTUP) {
            throw new ProtocolException("unexpected startup packet");
        }
        if (packet instanceof StartupPacket.SslRequest && router.tls.enabled() && !tlsActive) {
            // answered 'S' once this read is done, if nothing follows it (the client must wait for the answer)
            sslAccepted = true;
        } else if (packet instanceof StartupPacket.SslRequest || packet instanceof StartupPacket.GssEncRequest) {
            session.out(PgMessages.sslNotSupported());
        } else if (packet instanceof StartupPacket.CancelRequest cancel) {
            router.cancel(cancel.processId(), cancel.secretKey());
            session.close();
        } else {
            startup((StartupPacket.Startup) packet);
        }
    }

    private void startup(StartupPacket.Startup startup) {
        session.startupDone();
        if (router.tls.required() && !tlsActive) {
            router.events.authenticationFailed();
            session.fatal(SqlState.INVALID_AUTHORIZATION, "the router requires TLS: connect with sslmode=require or stronger");
            return;
        }
        if (!session.admit()) {
            session.fatal(SqlState.TOO_MANY_CONNECTIONS, "sorry, too many clients already");
            return;
        }
        user = startup.user();
        database = startup.database();
        if (startup.parameters().containsKey("replication")) {
            session.fatal(SqlState.FEATURE_NOT_SUPPORTED, "replication connections are not supported by the router");
            return;
        }
        for (Map.Entry<String, String> p : startup.parameters().entrySet()) {
            String name = p.getKey().toLowerCase(Locale.ROOT);
            if (TrackedSet.PARAMETERS.contains(name)) {
                parameters.put(name, TrackedSet.literal(p.getValue()));
                startupParameters.put(name, p.getValue());
            } else if (!LOGIN_PARAMETERS.contains(name) && !(name.equals("options") && p.getValue().isBlank())) {
                // dropping it would leave the client believing it in force (a statement_timeout, say)
                session.fatal(SqlState.FEATURE_NOT_SUPPORTED, "unsupported startup parameter: " + p.getKey()
                        + " (the router sets only " + String.join(", ", new TreeSet<>(TrackedSet.PARAMETERS))
                        + " on the connections it lends; SET it after connecting, or connect to an instance directly)");
                return;
            }
        }
        step = Step.SASL_INITIAL;
        verifier = router.auth.lookup(user);
        session.out(PgMessages.authenticationSasl(Scram.MECHANISM));
    }

    private void onAuthMessage(byte type, Buffer message) {
        if (type != Frontend.PASSWORD || (step != Step.SASL_INITIAL && step != Step.SASL_CONTINUE)) {
            throw new ProtocolException("expected SASL response, got message type '" + (char) type + "'");
        }
        MessageReader r = FrontendMessages.password(message);
        if (step == Step.SASL_INITIAL) {
            String mechanism = r.readCString();
            int len = r.readInt();
            String data = r.readBytes(len).toString(StandardCharsets.UTF_8);
            r.expectEnd();
            if (!Scram.MECHANISM.equals(mechanism)) {
                throw new ProtocolException(SqlState.INVALID_AUTHORIZATION, "unsupported SASL mechanism " + mechanism);
            }
            session.pauseForLogin(true);
            verifier.onComplete(ar -> {
                if (session.isClosed()) {
                    return;
                }
                session.pauseForLogin(false);
                if (ar.failed()) {
                    LOG.warnf("verifier lookup for %s failed: %s", user, ar.cause().getMessage());
                    session.fatal(SqlState.CANNOT_CONNECT_NOW, "authentication lookup failed: " + ar.cause().getMessage());
                    return;
                }
                knownUser = ar.result().isPresent();
                scram = new ScramServerExchange(ar.result().orElseGet(() -> ScramVerifier.decoy(router.decoyKey, user)));
                try {
                    session.out(PgMessages.authenticationSaslContinue(scram.clientFirst(data).getBytes(StandardCharsets.UTF_8)));
                    step = Step.SASL_CONTINUE;
                } catch (ScramServerExchange.ScramException e) {
                    session.fatal(SqlState.PROTOCOL_VIOLATION, e.getMessage());
                }
                session.flushAll();
            });
            return;
        }
        String data = r.readBytes(r.remaining()).toString(StandardCharsets.UTF_8);
        ScramServerExchange.Result result;
        try {
            result = scram.clientFinal(data);
        } catch (ScramServerExchange.ScramException e) {
            throw new ProtocolException(e.getMessage());
        }
        if (result == null || !knownUser) {
            router.auth.invalidate(user);
            router.events.authenticationFailed();
            session.fatal(SqlState.INVALID_PASSWORD, "password authentication failed for user \"" + user + "\"");
            return;
        }
        authenticated(result.keys(), result.serverFinal());
    }

    /** The password was right: the admin console, or the role's database (whose classifier and parameters may need loading). */
    private void authenticated(ClientKeys keys, String serverFinal) {
        step = Step.LOGIN;
        if (router.isAdminDatabase(database)) {
            if (!router.isAdmin(user)) {
                router.events.authenticationFailed();
                session.fatal(SqlState.INVALID_AUTHORIZATION, "role \"" + user + "\" may not use the admin console");
                return;
            }
            greet(serverFinal, ADMIN_GREETING, true, null);
            return;
        }
        router.pools.rememberKeys(user, keys);
        session.pauseForLogin(true);
        router.classifierFor(database).onComplete(ar -> {
            StatementClassifier classifier = ar.succeeded() ? ar.result() : router.classifier;
            if (!session.isClosed()) {
                welcome(serverFinal, classifier);
            }
        });
    }

    private void welcome(String serverFinal, StatementClassifier classifier) {
        Map<String, String> greeting = router.welcome.get(user + "\0" + database);
        if (greeting != null) {
            greet(serverFinal, greeting, false, classifier);
            return;
        }
        // first client of this role and database: log in to a server to learn its parameters (and
        // to check that the database exists and the server accepts the role)
        ServerPool p = router.pools.pool(new PoolKey(user, database, router.choose(Route.PRIMARY, true)));
        p.acquire(ar -> {
            if (session.isClosed()) {
                if (ar.succeeded()) {
                    p.release(ar.result());
                }
                return;
            }
            if (ar.failed()) {
                session.loginFailed(ar.cause());
                return;
            }
            Map<String, String> learned = new LinkedHashMap<>(ar.result().reportedParameters());
            router.welcome.put(user + "\0" + database, learned);
            p.release(ar.result());
            greet(serverFinal, learned, false, classifier);
        });
    }

    private void greet(String serverFinal, Map<String, String> serverParameters, boolean admin, StatementClassifier classifier) {
        session.out(PgMessages.authenticationSaslFinal(serverFinal.getBytes(StandardCharsets.UTF_8)));
        session.out(PgMessages.authenticationOk());
        serverParameters.forEach((k, v) -> session.out(PgMessages.parameterStatus(k,
                startupParameters.getOrDefault(k.toLowerCase(Locale.ROOT), v))));
        int processId;
        int secretKey;
        do {
            processId = CANCEL_KEYS.nextInt(1, Integer.MAX_VALUE);
            secretKey = CANCEL_KEYS.nextInt();
        } while (router.cancelKeys.putIfAbsent(Router.key(processId, secretKey), session) != null);
        session.out(PgMessages.backendKeyData(processId, secretKey));
        session.out(PgMessages.readyForQuery(PgProtocol.TxStatus.IDLE));
        stopTimer();
        session.loggedIn(new Identity(user, database, admin, new SessionParameters(parameters), classifier, processId, secretKey));
    }
}
