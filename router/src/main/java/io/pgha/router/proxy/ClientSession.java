package io.pgha.router.proxy;

import io.pgha.router.proxy.ReplyQueue.Expect;
import io.pgha.router.proxy.ReplyQueue.Kind;

import io.pgha.router.routing.ReadPolicy;
import io.pgha.router.pool.PoolKey;
import io.pgha.router.pool.PoolMode;
import io.pgha.router.pool.ServerConnection;
import io.pgha.router.pool.ServerPool;
import io.pgha.router.pool.WriteBatch;
import io.pgha.router.protocol.BackendMessages;
import io.pgha.router.protocol.FrontendMessages;
import io.pgha.router.protocol.MessageFramer;
import io.pgha.router.protocol.PgMessages;
import io.pgha.router.protocol.PgProtocol;
import io.pgha.router.protocol.PgProtocol.Backend;
import io.pgha.router.protocol.PgProtocol.Frontend;
import io.pgha.router.protocol.PgProtocol.SqlState;
import io.pgha.router.protocol.ProtocolException;
import io.pgha.router.routing.Classification;
import io.pgha.router.routing.Route;
import io.pgha.router.routing.ServerChoice;
import io.pgha.router.topology.ServerAddress;
import io.vertx.core.AsyncResult;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.NetSocket;
import io.vertx.core.net.impl.NetSocketInternal;
import org.jboss.logging.Logger;

import java.util.ArrayDeque;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * One client connection: its way in ({@link ClientLogin}: TLS, startup, SCRAM), then the message
 * loop that lends it server connections per transaction (or per session) and relays both ways.
 *
 * <p>Prepared statements: a client's named statements are kept in {@link ClientStatements} (text,
 * parameter types, classification) under a server-side name shared by all clients, and
 * {@link StatementRelay} writes them to the lent server connection, preparing them there when it
 * has not seen them and answering itself what the server is not asked. To put those answers at
 * the right place in the reply stream, every request that expects replies is queued in a
 * {@link ReplyQueue} in order.
 *
 * <p>Session state in transaction pooling: a statement that leaves state in the server session
 * ({@code SET}, {@code LISTEN}, SQL {@code PREPARE}, temporary tables, session advisory locks,
 * {@code WITH HOLD} cursors) pins the client to its server connection until it disconnects; the
 * connection is then reset with {@code DISCARD ALL}. The startup parameters a client sent
 * (client_encoding, DateStyle, TimeZone, application_name, ...) are tracked and set on every server
 * connection it is lent, so they are neither lost nor leaked.
 */
final class ClientSession implements ServerConnection.Listener {
    private static final Logger LOG = Logger.getLogger(ClientSession.class);

    private enum Phase { LOGIN, READY, CLOSED }

    /**
     * The largest message a client may send before it has logged in: a startup packet (PostgreSQL
     * allows 10,000 bytes) or a SASL message (a few hundred bytes for SCRAM). An unauthenticated
     * client therefore never makes the router hold more than this.
     */
    static final int MAX_LOGIN_MESSAGE_SIZE = 16 * 1024;

    private final Router router;
    private final NetSocket socket;
    private final ClientFlow flow;
    private final boolean primaryOnly;
    private final MessageFramer framer;
    private Phase phase = Phase.LOGIN;
    /** The way in; done with once the client is logged in. */
    private final ClientLogin login;
    private boolean admitted;
    private String user;
    private String database;
    /** What the client's statements did to its server session: tracked parameters, pinning; once logged in. */
    private SessionState sessionState;
    private int processId;
    private int secretKey;
    /** The Query or Parse decoded last, classified with the volatile functions of the client's database; once logged in. */
    private DecodedRequest decoded;

    /** Fixed when the client connects: a settings reload must not switch a session's pooling under it. */
    private final PoolMode poolMode;
    /** Every server connection given back is reset first (fixed at connect, like the pool mode). */
    private final boolean resetOnRelease;
    private ServerConnection server;
    private ServerPool pool;
    private long attachedAt;
    private final ReadYourWrites readYourWrites;
    private final ArrayDeque<Buffer> pending = new ArrayDeque<>();
    private final ReplyQueue expects = new ReplyQueue();
    private final ClientStatements statements;
    private final StatementRelay statementRelay;
    private final WriteBatch out;
    /**
     * A client read is being framed. A connection lent at once, inside it, is not flushed on its
     * own: the read's end flushes what all its messages queued, so that an extended-protocol batch
     * (Parse, Bind, Describe, Execute, Sync in one read) reaches the server in one write, not two.
     */
    private boolean framing;
    /** The server's last ReadyForQuery said no transaction is open. */
    private boolean lastStatusIdle = true;
    /** A session of the admin console: never lent a server connection. */
    private boolean admin;
    /** The admin session speaks PgBouncer's console dialect ({@link PgBouncerConsole}). */
    private boolean pgbouncerDialect;
    /**
     * Where this client's traffic is counted: its database's counters once it has logged in to
     * one; before that (and for the admin console) counters of its own that nobody reads.
     */
    private DatabaseStats stats = new DatabaseStats();
    /** A standby read's requests and held-back replies, while it may still run again on the primary. */
    private final PrimaryRetry primaryRetry = new PrimaryRetry();
    /** {@link #out} and {@link #forward} as handlers, made once rather than on every server reply. */
    private final Consumer<Buffer> toClient = this::out;
    private final Consumer<Buffer> forwarding = this::forward;
    /** A Parse was answered without a server; a Sync right after it is answered too. */
    private boolean answeredLocally;
    /** The server is in COPY FROM STDIN and takes CopyData from the client. */
    private boolean copyIn;
    /** A long CopyData is half relayed: the server connection is mid-message. */
    private boolean midMessage;

    ClientSession(Router router, NetSocket socket, boolean primaryOnly) {
        this.router = router;
        this.socket = socket;
        this.primaryOnly = primaryOnly;
        this.framer = new MessageFramer(Math.min(MAX_LOGIN_MESSAGE_SIZE, router.settings.maxMessageSize()), 64 * 1024, true, Frontend.COPY_DATA);
        this.poolMode = router.settings.poolMode();
        this.resetOnRelease = router.settings.resetOnRelease();
        this.login = new ClientLogin(router, this, socket);
        this.out = new WriteBatch(socket);
        this.flow = new ClientFlow(socket, router.context, bytes -> onData(Buffer.buffer(bytes)), () -> phase == Phase.CLOSED);
        this.statements = new ClientStatements(router.names);
        this.statementRelay = new StatementRelay(statements, expects, () -> router.settings.maxPreparedStatements(), toClient);
        this.readYourWrites = new ReadYourWrites(router, () -> phase == Phase.CLOSED);
    }

    void start() {
        router.sessionOpened(this);
        login.start();
        // the client's bytes are framed in place, as Netty read them
        ((NetSocketInternal) socket).messageHandler(flow::onRead);
        socket.closeHandler(v -> onClosed());
        socket.exceptionHandler(e -> socket.close());
    }

    ServerConnection server() {
        return server;
    }

    String user() {
        return user != null ? user : login.user();
    }

    String database() {
        return database != null ? database : login.database();
    }

    /** Logged in (to a database or the admin console) and not yet gone. */
    boolean loggedIn() {
        return phase == Phase.READY;
    }

    boolean isAdmin() {
        return admin;
    }

    /** Waiting for a server connection. */
    boolean waiting() {
        return server == null && flow.paused(ClientFlow.ACQUIRE);
    }

    /** This client as a row of SHOW CLIENTS. */
    List<String> adminRow() {
        String state = admin ? "admin" : server != null ? "active" : flow.paused(ClientFlow.ACQUIRE) ? "waiting" : "idle";
        return List.of(String.valueOf(user()), String.valueOf(database()), state, server == null ? "" : server.key().server().toString(),
                Boolean.toString(sessionState != null && sessionState.pinned()), String.valueOf(socket.remoteAddress()));
    }

    // ------------------------------------------------------------------ client input

    /** What the framer finds in the client's bytes; one instance, so that a read allocates no handler. */
    private final MessageFramer.Handler clientInput = new MessageFramer.Handler() {
        @Override
        public void onMessage(byte type, Buffer message) {
            if (phase == Phase.READY) {
                onClientMessage(type, message);
            } else if (phase == Phase.LOGIN) {
                // the way in may keep a message while it waits for a look-up
                login.onMessage(type, MessageFramer.kept(message));
            }
        }

        @Override
        public void onMessagePart(byte type, Buffer part, boolean first, boolean last) {
            // long CopyData: relayed as it comes
            if (phase != Phase.READY) {
                throw new ProtocolException("unexpected CopyData before authentication");
            }
            if (server != null && pending.isEmpty() && copyIn) {
                server.write(part);
                midMessage = !last;
            } else if (first) {
                throw new ProtocolException(SqlState.PROGRAM_LIMIT_EXCEEDED, "CopyData outside of COPY FROM STDIN");
            }
        }
    };

    /** One read of the client, when {@link ClientFlow} lets it through. */
    private void onData(Buffer chunk) {
        if (phase == Phase.CLOSED) {
            return;
        }
        stats.receivedBytes += chunk.length();
        framing = true;
        try {
            framer.feed(chunk, clientInput);
        } catch (ProtocolException e) {
            router.events.clientError(e.sqlState());
            fatal(e.sqlState(), e.getMessage());
            return;
        } finally {
            framing = false;
        }
        if (phase == Phase.LOGIN && login.endOfRead(framer.bufferedBytes())) {
            return;
        }
        flushAll();
    }

    /**
     * Whether a failed login to a standby says nothing about the client: the server could not be
     * reached, or refused because of its own state (class 57: shutting down, starting up; class 53:
     * out of connections), so the read can go to the primary. A refusal of the client itself (bad
     * password, no such database) would be the same there and goes to the client.
     */
    private static boolean standbyUnavailable(Throwable cause) {
        if (!(cause instanceof ServerConnection.LoginException le) || le.errorResponse() == null) {
            return true;
        }
        String code = BackendMessages.errorFields(le.errorResponse()).get(PgProtocol.ErrorField.CODE);
        return code != null && (code.startsWith(SqlState.CLASS_OPERATOR_INTERVENTION) || code.startsWith(SqlState.CLASS_INSUFFICIENT_RESOURCES));
    }

    void loginFailed(Throwable cause) {
        if (cause instanceof ServerConnection.LoginException le && le.errorResponse() != null) {
            out(le.errorResponse());
            flushAll();
            close();
        } else {
            fatal(SqlState.CANNOT_CONNECT_NOW, cause.getMessage() == null ? cause.toString() : cause.getMessage());
        }
    }

    /** Logged in: from here on the client's messages go through the message loop. */
    void loggedIn(ClientLogin.Identity identity) {
        user = identity.user();
        database = identity.database();
        sessionState = new SessionState(identity.parameters(), poolMode == PoolMode.TRANSACTION);
        processId = identity.processId();
        secretKey = identity.secretKey();
        admin = identity.admin();
        if (admin) {
            pgbouncerDialect = PgBouncerConsole.DATABASE.equals(database);
        } else {
            decoded = new DecodedRequest(identity.classifier());
            stats = router.statsFor(database);
        }
        phase = Phase.READY;
        framer.maxMessageSize(router.settings.maxMessageSize());
        flow.pause(ClientFlow.LOGIN, false);
        flushAll();
    }

    // ---- what the login uses of the session

    boolean isReady() {
        return phase == Phase.READY;
    }

    boolean isClosed() {
        return phase == Phase.CLOSED;
    }

    /** The startup packet has come: messages have type bytes from now on. */
    void startupDone() {
        framer.expectStartup(false);
    }

    /** Takes a client slot (given back when the client leaves); false when the router is full. */
    boolean admit() {
        admitted = router.admitClient();
        return admitted;
    }

    /** Reads stop while the login waits for a look-up. */
    void pauseForLogin(boolean on) {
        flow.pause(ClientFlow.LOGIN, on);
    }

    // ------------------------------------------------------------------ the message loop

    private void onClientMessage(byte type, Buffer message) {
        if (type == Frontend.TERMINATE) {
            close();
            return;
        }
        if (admin) {
            onAdminMessage(type, message);
            return;
        }
        if (server != null && pending.isEmpty()) {
            if (primaryRetry.isOpen() && !primaryRetry.record(message)) {
                endRetryWindow();
            }
            relay(type, message);
            return;
        }
        if (!pending.isEmpty()) {
            pending.add(MessageFramer.kept(message));
            return;
        }
        // decoded (once) as it lies in the read; copied only if no server connection is lent at once
        switch (type) {
            case Frontend.FLUSH, Frontend.COPY_DATA, Frontend.COPY_DONE, Frontend.COPY_FAIL -> {
                // nothing outstanding to flush; COPY messages after a failed COPY are ignored, as by PostgreSQL
                return;
            }
            case Frontend.PARSE -> {
                if (parseLocally(message)) {
                    return;
                }
            }
            case Frontend.SYNC -> {
                if (answeredLocally) {
                    answeredLocally = false;
                    out(PgMessages.readyForQuery(PgProtocol.TxStatus.IDLE));
                    return;
                }
            }
            default -> {
            }
        }
        answeredLocally = false;
        pending.add(message);
        acquire(routeOf(type, message), false);
        keepPending(message);
    }

    /** A message to the admin console: a simple query, answered by the router. */
    private void onAdminMessage(byte type, Buffer message) {
        if (type != Frontend.QUERY) {
            throw new ProtocolException(SqlState.FEATURE_NOT_SUPPORTED, "the admin console takes simple queries only");
        }
        String sql = FrontendMessages.query(message);
        if (pgbouncerDialect) {
            out(PgBouncerConsole.run(router, sql));
            return;
        }
        // the console's own look-ups are asynchronous: the client's next query waits for this answer
        flow.pause(ClientFlow.ACQUIRE, true);
        AdminConsole.run(router, sql).onComplete(ar -> {
            if (phase == Phase.CLOSED) {
                return;
            }
            flow.pause(ClientFlow.ACQUIRE, false);
            if (ar.succeeded()) {
                out(ar.result());
            } else {
                out(PgMessages.errorResponse("ERROR", SqlState.INTERNAL_ERROR, String.valueOf(ar.cause())));
                out(PgMessages.readyForQuery(PgProtocol.TxStatus.IDLE));
            }
            flushAll();
        });
    }

    /**
     * After {@link #acquire}: a request still waiting (no server connection was lent at once) outlives
     * the read it came in, so it is copied, its decoding carried over. Most transactions get a
     * connection at once and are relayed from the read itself.
     */
    private void keepPending(Buffer message) {
        // pending was empty before: the request is at its head or already relayed
        if (pending.peekFirst() == message) {
            Buffer copy = MessageFramer.kept(pending.pollFirst());
            pending.addFirst(copy);
            decoded.moved(message, copy);
        }
    }

    /**
     * A named Parse outside a transaction is answered by the router itself: the statement is
     * remembered and prepared on whichever server connection first needs it. This saves a round
     * trip and, more importantly, a server connection: libpq's synchronous PQprepare (pgbench
     * -M prepared) would otherwise hold a client thread while its other connections sit in open
     * transactions, deadlocking a small pool. The price: an invalid statement is reported at its
     * first Bind or Describe rather than at Parse.
     */
    private boolean parseLocally(Buffer message) {
        FrontendMessages.Parse parse = decoded.parse(message);
        if (parse.statement().isEmpty()) {
            return false;
        }
        Classification c = decoded.classified();
        decoded.forget();
        statements.define(parse.statement(), parse.query(), parse.parameterTypes(), c);
        out(PgMessages.parseComplete());
        answeredLocally = true;
        return true;
    }

    /** The route of the transaction that {@code message} starts. */
    private Route routeOf(byte type, Buffer message) {
        if (poolMode == PoolMode.SESSION) {
            return Route.PRIMARY;
        }
        return switch (type) {
            case Frontend.QUERY -> {
                decoded.query(message);
                yield decoded.classified().route();
            }
            case Frontend.PARSE -> {
                decoded.parse(message);
                yield decoded.classified().route();
            }
            case Frontend.BIND -> statements.routeOf(FrontendMessages.bind(message).statement());
            case Frontend.DESCRIBE -> {
                FrontendMessages.Target t = FrontendMessages.target(message);
                yield t.isStatement() ? statements.routeOf(t.name()) : Route.PRIMARY;
            }
            case Frontend.SYNC, Frontend.CLOSE -> Route.STANDBY_OK;
            default -> Route.PRIMARY;
        };
    }

    private void acquire(Route route, boolean retry) {
        flow.pause(ClientFlow.ACQUIRE, true);
        if (route != Route.PRIMARY && !primaryOnly && router.readYourWrites() && router.settings.readPolicy() != ReadPolicy.PRIMARY) {
            ServerChoice.BeforeRead first = readYourWrites.beforeRead();
            if (first != ServerChoice.BeforeRead.CHOOSE) {
                // the handlers are made only when the read must wait
                readYourWrites.await(first, () -> acquire(route, retry), () -> acquireAdmitted(route, retry));
                return;
            }
        }
        acquireAdmitted(route, retry);
    }

    /** The transaction starts with a SET of a tracked parameter, which writes nothing (drivers send one at connect). */
    private boolean trackedSetOnly() {
        Buffer first = pending.peek();
        if (first == null) {
            return false;
        }
        String sql = switch (first.getByte(0)) {
            case Frontend.QUERY -> decoded.query(first);
            case Frontend.PARSE -> decoded.parse(first).query();
            default -> null;
        };
        return sql != null && SessionState.trackedSet(decoded.classified(), sql);
    }

    private void acquireAdmitted(Route route, boolean retry) {
        flow.pause(ClientFlow.ACQUIRE, true);
        if (!router.admitting()) {
            // asked first, so that the handler is made only when it must wait
            router.admitLater(() -> {
                if (phase != Phase.CLOSED) {
                    acquire(route, retry);
                }
            });
            return;
        }
        ServerAddress address = router.choose(route, primaryOnly, route == Route.PRIMARY || !router.readYourWrites() ? 0 : readYourWrites.readAfter());
        boolean toStandby = !address.equals(router.topology.current().primary());
        ServerPool p = router.pools.pool(new PoolKey(user, database, address));
        flow.pause(ClientFlow.ACQUIRE, true);
        p.acquire(ar -> attached(p, route, toStandby, retry, ar));
    }

    private void attached(ServerPool p, Route route, boolean toStandby, boolean retry, AsyncResult<ServerConnection> ar) {
        if (phase == Phase.CLOSED) {
            if (ar.succeeded()) {
                p.release(ar.result());
            }
            return;
        }
        if (ar.failed()) {
            if (toStandby && !retry && standbyUnavailable(ar.cause())) {
                LOG.warnf("cannot connect to standby %s, reading from the primary: %s", p.key().server(), ar.cause().getMessage());
                router.pools.markDown(p.key().server());
                acquire(Route.PRIMARY, true);
                return;
            }
            loginFailed(ar.cause());
            return;
        }
        server = ar.result();
        pool = p;
        router.attachedServer();
        attachedAt = System.nanoTime();
        server.listener(this);
        router.events.routed(route, toStandby);
        readYourWrites.started(!toStandby && route == Route.PRIMARY && router.readYourWrites() && !primaryOnly && !trackedSetOnly());
        if (toStandby && !retry && lastStatusIdle && !primaryRetry.open(pending)) {
            endRetryWindow();
        }
        applyParameters();
        try {
            while (!pending.isEmpty() && server != null && phase == Phase.READY) {
                Buffer m = pending.poll();
                if (m.getByte(0) == Frontend.TERMINATE) {
                    close();
                    return;
                }
                relay(m.getByte(0), m);
            }
        } catch (ProtocolException e) {
            fatal(e.sqlState(), e.getMessage());
            return;
        }
        flow.pause(ClientFlow.ACQUIRE, false);
        if (!framing) {
            flushAll();
        }
    }

    /** Sets the client's session parameters on the lent connection where they differ. */
    private void applyParameters() {
        String sql = sessionState.align(server.parameters());
        if (sql != null) {
            server.write(PgMessages.query(sql));
            expects.add(Expect.QUERY_SWALLOW);
        }
    }

    /** Sends one client message to the lent server connection, rewriting statement names. */
    private void relay(byte type, Buffer message) {
        switch (type) {
            case Frontend.QUERY -> {
                String sql = decoded.query(message);
                Classification c = decoded.classified();
                decoded.forget();
                sessionState.sent(c, sql, expects.nextRequest());
                server.write(message);
                expects.add(Expect.QUERY);
                stats.queries++;
            }
            case Frontend.PARSE -> parse(message);
            case Frontend.BIND -> {
                ClientStatements.Statement bound = statementRelay.bind(server, message);
                if (bound != null) {
                    sessionState.bound(bound, expects.nextRequest());
                }
            }
            case Frontend.DESCRIBE -> statementRelay.describe(server, message);
            case Frontend.CLOSE -> statementRelay.close(server, message);
            case Frontend.EXECUTE -> {
                server.write(message);
                expects.add(Expect.EXECUTE);
            }
            case Frontend.SYNC -> {
                server.write(message);
                expects.add(Expect.SYNC);
                stats.queries++;
            }
            case Frontend.FUNCTION_CALL -> {
                server.write(message);
                expects.add(Expect.QUERY);
                stats.queries++;
            }
            case Frontend.FLUSH -> server.write(message);
            case Frontend.COPY_DATA, Frontend.COPY_DONE, Frontend.COPY_FAIL -> {
                // outside COPY FROM STDIN PostgreSQL ignores them too (a failed COPY's leftovers)
                if (copyIn) {
                    server.write(message);
                }
            }
            default -> throw new ProtocolException("invalid frontend message type '" + (char) type + "'");
        }
    }

    private void parse(Buffer message) {
        FrontendMessages.Parse parse = decoded.parse(message);
        Classification c = decoded.classified();
        decoded.forget();
        if (parse.statement().isEmpty()) {
            sessionState.sent(c, parse.query(), expects.nextRequest());
        }
        statementRelay.parse(server, message, parse, c);
    }

    // ------------------------------------------------------------------ server output

    @Override
    public void onServerMessage(ServerConnection s, byte type, Buffer message) {
        if (primaryRetry.isRefused()) {
            if (type == Backend.READY_FOR_QUERY) {
                retryOnPrimary();
            }
            return;
        }
        if (primaryRetry.isOpen() && !answersOwnSet()) {
            if (type == Backend.ERROR_RESPONSE && PrimaryRetry.retryable(message) && expects.oneRequest()) {
                primaryRetry.refuse();
                return;
            }
            if (PrimaryRetry.endsWindow(type, expects.oneRequest())) {
                endRetryWindow();
            }
        }
        if (sessionState.following() && !answersOwnSet()) {
            sessionState.replied(type, message, expects.currentRequest());
        }
        if (type == Backend.COPY_IN_RESPONSE || type == Backend.COPY_BOTH_RESPONSE) {
            copyIn = true;
        } else if (copyIn && (type == Backend.COMMAND_COMPLETE || type == Backend.ERROR_RESPONSE || type == Backend.READY_FOR_QUERY)) {
            copyIn = false;
        }
        switch (expects.answer(type)) {
            case FORWARD -> forward(message);
            case SWALLOW -> {
            }
            case ERROR -> {
                // the failed request and every Parse after it up to the Sync never prepared their statements
                expects.skipToSync(s.prepared()::remove);
                forward(message);
            }
            case OWN_ERROR -> {
                // only a value from the client's startup packet can fail here (a SET takes effect only
                // once the server accepted it, and SET ... TO DEFAULT cannot fail): PostgreSQL would
                // have refused that startup packet, and the client ends as it would have
                s.parameters().unknown();
                Map<Byte, String> error = BackendMessages.errorFields(message);
                fatal(error.getOrDefault(PgProtocol.ErrorField.CODE, SqlState.PROTOCOL_VIOLATION),
                        error.get(PgProtocol.ErrorField.MESSAGE) + " (a session parameter of the startup packet)");
                return;
            }
            case READY -> {
                forward(message);
                readyForQuery(message, true);
                return;
            }
            case OWN_READY -> {
                readyForQuery(message, false);
                return;
            }
        }
        drainSynthetic();
    }

    /**
     * The server's reply answers the router's own SET of the client's parameters, not a request of
     * the client. Asked only while a retry window or a pending SET needs it: not on every reply.
     */
    private boolean answersOwnSet() {
        Expect head = expects.peek();
        return head != null && head.kind() == Kind.QUERY_SWALLOW;
    }

    private void drainSynthetic() {
        expects.drainSynthetic(forwarding);
    }

    // ------------------------------------------------------------------ retrying refused reads on the primary

    /** Server output to the client; held back while a standby read may still be retried on the primary. */
    private void forward(Buffer message) {
        if (!primaryRetry.isOpen()) {
            out(message);
        } else if (!primaryRetry.hold(message)) {
            endRetryWindow();
        }
    }

    /** The client has seen (or now sees) something final of a standby read: no retry any more. */
    private void endRetryWindow() {
        primaryRetry.close(toClient);
    }

    /** The standby's ReadyForQuery after a refused read: give it back and replay the requests on the primary. */
    private void retryOnPrimary() {
        ServerConnection s = releaseServer();
        LOG.debugf("read refused by standby %s, running it on the primary", s.key().server());
        rerunOnPrimary();
    }

    /** Sends the kept requests of a standby read to the primary; the client never saw the standby's answer. */
    private void rerunOnPrimary() {
        List<Buffer> again = primaryRetry.takeRequests();
        expects.clear();
        pending.addAll(again);
        acquire(Route.PRIMARY, true);
    }

    /** @param clients the client sees this ReadyForQuery (it is not the answer to the router's own SET) */
    private void readyForQuery(Buffer message, boolean clients) {
        drainSynthetic();
        byte status = BackendMessages.readyForQueryStatus(message);
        lastStatusIdle = status == PgProtocol.TxStatus.IDLE;
        if (lastStatusIdle && clients) {
            stats.transactions++;
        }
        // the ReadyForQuery has taken its request off the queue: the one that ended is the one before
        if (clients) {
            sessionState.ready(status, expects.currentRequest() - 1, server.parameters());
        }
        if (sessionState.takeDiscarded()) {
            server.prepared().clear();
            server.parameters().unknown();
        }
        if (status == PgProtocol.TxStatus.IDLE && expects.isEmpty() && !sessionState.pinned()
                && poolMode == PoolMode.TRANSACTION) {
            detach();
        }
    }

    /** Unhooks the server connection from this client and gives it back to its pool; returns it. */
    private ServerConnection releaseServer() {
        ServerConnection s = server;
        ServerPool p = pool;
        server = null;
        pool = null;
        router.detachedServer();
        flow.resumeServer();
        if (resetOnRelease) {
            ServerResetter.reset(s, p);
        } else {
            s.listener(null);
            p.release(s);
        }
        return s;
    }

    /** Gives the server connection back to its pool. */
    private void detach() {
        endRetryWindow();
        flushAll();
        long held = System.nanoTime() - attachedAt;
        router.events.transactionFinished(held);
        stats.serverNanos += held;
        releaseServer();
        if (!primaryOnly && router.readYourWrites()) {
            readYourWrites.ended();
        }
    }

    @Override
    public void onServerMessagePart(ServerConnection s, byte type, Buffer part, boolean first, boolean last) {
        if (primaryRetry.isOpen()) {
            endRetryWindow();
        }
        out(part);
    }

    @Override
    public void onServerReadComplete(ServerConnection s) {
        if (primaryRetry.isOpen()) {
            primaryRetry.endOfRead();
        }
        flushAll();
    }

    @Override
    public void onServerClosed(ServerConnection s) {
        if (s == server) {
            ServerPool p = pool;
            server = null;
            pool = null;
            router.detachedServer();
            p.closed(s);
            flow.serverGone();
            if (primaryRetry.isRefused() || primaryRetry.isOpen() && expects.oneRequest()) {
                // a standby that died under a read: nothing final reached the client, so the read moves
                LOG.warnf("lost standby %s during a read, running it on the primary", s.key().server());
                router.pools.markDown(s.key().server());
                rerunOnPrimary();
                return;
            }
            fatal(SqlState.CONNECTION_FAILURE, "server connection to " + s.key().server() + " was lost");
        }
    }

    // ------------------------------------------------------------------ output, flow control, end

    void out(Buffer message) {
        out.add(message);
    }

    void flushAll() {
        if (phase == Phase.CLOSED) {
            out.discard();
        } else {
            stats.sentBytes += out.flush();
            flow.clientFlushed(server);
        }
        if (server != null) {
            server.flush();
            flow.serverFlushed(server);
        } else {
            flow.serverGone();
        }
    }

    void fatal(String sqlState, String message) {
        if (phase == Phase.CLOSED) {
            return;
        }
        out(PgMessages.fatal(sqlState, message));
        flushAll();
        close();
    }

    void close() {
        if (phase != Phase.CLOSED) {
            phase = Phase.CLOSED;
            socket.close();
        }
        releaseServerOnClose();
    }

    private void onClosed() {
        phase = Phase.CLOSED;
        out.discard();
        flow.clientGone();
        login.stopTimer();
        router.sessionClosed(this);
        releaseServerOnClose();
        if (admitted) {
            admitted = false;
            router.clientGone();
        }
        if (processId != 0) {
            router.cancelKeys.remove(Router.key(processId, secretKey));
        }
    }

    /** The client is gone: its server connection goes back clean, or is closed. */
    private void releaseServerOnClose() {
        ServerConnection s = server;
        ServerPool p = pool;
        if (s == null) {
            return;
        }
        server = null;
        pool = null;
        router.detachedServer();
        stats.serverNanos += System.nanoTime() - attachedAt;
        flow.resumeServer();
        boolean clean = expects.isEmpty() && pending.isEmpty() && !s.isClosed() && lastStatusIdle && !copyIn && !midMessage;
        if (!clean) {
            s.listener(null);
            s.close();
            p.closed(s);
            return;
        }
        if (!sessionState.pinned() && poolMode == PoolMode.TRANSACTION && !router.settings.resetOnRelease()) {
            s.listener(null);
            p.release(s);
            return;
        }
        ServerResetter.reset(s, p);
    }
}
