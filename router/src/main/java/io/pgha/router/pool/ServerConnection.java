package io.pgha.router.pool;

import io.pgha.api.postgres.Scram;
import io.pgha.api.postgres.ScramClient;
import io.pgha.api.tls.ServerIdentity;
import io.pgha.router.auth.ClientKeys;
import io.pgha.router.protocol.BackendMessages;
import io.pgha.router.protocol.MessageFramer;
import io.pgha.router.protocol.MessageReader;
import io.pgha.router.protocol.PgMessages;
import io.pgha.router.protocol.PgProtocol;
import io.pgha.router.protocol.ProtocolException;
import io.netty.buffer.ByteBuf;
import io.netty.util.ReferenceCountUtil;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetSocket;
import io.vertx.core.net.impl.NetSocketInternal;
import org.jboss.logging.Logger;

import javax.net.ssl.SSLPeerUnverifiedException;
import java.nio.charset.StandardCharsets;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One connection from the router to a PostgreSQL server. It logs in by SCRAM pass-through, then
 * hands every server message to its current {@link Listener} (the client session it is lent to, or
 * the pool while idle). Everything runs on the router's event loop.
 */
public final class ServerConnection {
    private static final Logger LOG = Logger.getLogger(ServerConnection.class);
    /**
     * Receives what the server sends. The buffers are valid only during the call (they lie in the
     * read's pooled memory): a listener that keeps one keeps a copy.
     */
    public interface Listener {
        void onServerMessage(ServerConnection server, byte type, Buffer message);

        void onServerMessagePart(ServerConnection server, byte type, Buffer part, boolean first, boolean last);

        /** End of one network read: a good moment to flush what was batched. */
        void onServerReadComplete(ServerConnection server);

        void onServerClosed(ServerConnection server);
    }

    /** A login failure with the server's own error message, to pass on to the client as is. */
    public static final class LoginException extends RuntimeException {
        private final transient Buffer errorResponse;

        public LoginException(String message, Buffer errorResponse) {
            super(message, null, false, false);
            this.errorResponse = errorResponse;
        }

        public Buffer errorResponse() {
            return errorResponse;
        }
    }

    private static final byte[] STREAMABLE = {PgProtocol.Backend.DATA_ROW, PgProtocol.Backend.COPY_DATA};
    private static int nextId;

    private final int id = ++nextId;
    private final PoolKey key;
    private final NetSocketInternal socket;
    private final MessageFramer framer;
    private final ServerParameters parameters = new ServerParameters();
    private final Map<String, String> reported = new LinkedHashMap<>();
    private final PreparedStatements prepared = new PreparedStatements();
    private Listener listener;
    private final WriteBatch out;
    private int backendPid;
    private int backendSecret;
    private boolean closed;
    private int cancelsInFlight;
    private Runnable afterCancels;
    /** Completes once the socket is closed, whoever closed it. */
    private final Promise<Void> ended = Promise.promise();
    private long idleSince = System.nanoTime();

    private ServerConnection(PoolKey key, NetSocket socket, int maxMessageSize) {
        this.key = key;
        this.socket = (NetSocketInternal) socket;
        this.out = new WriteBatch(socket);
        this.framer = new MessageFramer(maxMessageSize, 64 * 1024, false, STREAMABLE);
    }

    /**
     * Connects and logs in; the future completes once the server is ready for queries. The startup
     * packet names the role and the database only: whoever is lent the connection gets their session
     * parameters set on it ({@link #parameters()}), from the server's defaults.
     */
    public static Future<ServerConnection> open(NetClient client, PoolKey key, ClientKeys keys,
                                                int maxMessageSize, ServerTls tls, boolean verifyName) {
        return client.connect(key.server().port(), key.server().host())
                .compose(socket -> negotiateTls(socket, key, tls))
                .compose(socket -> verifyName ? checkName(socket, key) : Future.succeededFuture(socket))
                .compose(socket -> {
                    ServerConnection conn = new ServerConnection(key, socket, maxMessageSize);
                    return conn.login(keys);
                });
    }

    /**
     * After a handshake that verified the chain: the certificate must name the instance the
     * router meant to reach (its pod IP is what it connected to), or no password is sent.
     */
    private static Future<NetSocket> checkName(NetSocket socket, PoolKey key) {
        try {
            if (key.server().name() == null) {
                throw new CertificateException("no instance name to verify the certificate against");
            }
            Certificate peer = socket.peerCertificates().get(0);
            ServerIdentity.checkName((X509Certificate) peer, key.server().name());
            return Future.succeededFuture(socket);
        } catch (SSLPeerUnverifiedException | CertificateException e) {
            LOG.warnf("refused server %s (instance %s): %s", key.server(), key.server().name(), e.getMessage());
            socket.close();
            return Future.failedFuture(new LoginException("TLS with " + key.server() + " refused: " + e.getMessage(), null));
        }
    }

    /** SSLRequest, then the TLS handshake if the server answers 'S'. */
    private static Future<NetSocket> negotiateTls(NetSocket socket, PoolKey key, ServerTls tls) {
        if (tls == ServerTls.DISABLE) {
            return Future.succeededFuture(socket);
        }
        Promise<NetSocket> promise = Promise.promise();
        socket.exceptionHandler(promise::tryFail);
        socket.closeHandler(v -> promise.tryFail(new LoginException("server " + key.server() + " closed the connection during SSLRequest", null)));
        socket.handler(answer -> {
            socket.handler(null);
            byte b = answer.getByte(0);
            if (answer.length() != 1) {
                socket.close();
                promise.tryFail(new LoginException("server " + key.server() + " sent an invalid answer to SSLRequest", null));
            } else if (b == PgProtocol.SSL_SUPPORTED) {
                socket.upgradeToSsl().onSuccess(v -> promise.tryComplete(socket)).onFailure(e -> {
                    socket.close();
                    promise.tryFail(new LoginException("TLS handshake with " + key.server() + " failed: " + e.getMessage(), null));
                });
            } else if (tls == ServerTls.REQUIRE) {
                socket.close();
                promise.tryFail(new LoginException("server " + key.server() + " does not offer TLS, which the router requires", null));
            } else {
                promise.tryComplete(socket);
            }
        });
        socket.write(Buffer.buffer(8).appendInt(8).appendInt(PgProtocol.SSL_REQUEST_CODE));
        return promise.future();
    }

    private Future<ServerConnection> login(ClientKeys keys) {
        Promise<ServerConnection> promise = Promise.promise();
        ScramClient scram = keys == null ? null : new ScramClient(keys.keySource());
        listener = new Listener() {
            @Override
            public void onServerMessage(ServerConnection server, byte type, Buffer message) {
                try {
                    switch (type) {
                        case PgProtocol.Backend.AUTHENTICATION -> authenticate(message, scram);
                        case PgProtocol.Backend.PARAMETER_STATUS -> {
                            BackendMessages.ParameterStatus ps = BackendMessages.parameterStatus(message);
                            reported.put(ps.name(), ps.value());
                        }
                        case PgProtocol.Backend.BACKEND_KEY_DATA -> {
                            BackendMessages.BackendKeyData k = BackendMessages.backendKeyData(message);
                            backendPid = k.processId();
                            backendSecret = k.secretKey();
                        }
                        case PgProtocol.Backend.READY_FOR_QUERY -> {
                            listener = null;
                            promise.tryComplete(ServerConnection.this);
                        }
                        case PgProtocol.Backend.ERROR_RESPONSE -> {
                            String msg = BackendMessages.errorFields(message).get(PgProtocol.ErrorField.MESSAGE);
                            promise.tryFail(new LoginException("server " + key.server() + " refused the login: " + msg,
                                    MessageFramer.kept(message)));
                            close();
                        }
                        default -> {
                            // NoticeResponse, NegotiateProtocolVersion: nothing to do
                        }
                    }
                } catch (ProtocolException | LoginException e) {
                    promise.tryFail(e instanceof LoginException ? e : new LoginException(e.getMessage(), null));
                    close();
                }
            }

            @Override
            public void onServerMessagePart(ServerConnection server, byte type, Buffer part, boolean first, boolean last) {
                promise.tryFail(new LoginException("unexpected data from " + key.server() + " during login", null));
                close();
            }

            @Override
            public void onServerReadComplete(ServerConnection server) {
                flush();
            }

            @Override
            public void onServerClosed(ServerConnection server) {
                promise.tryFail(new LoginException("server " + key.server() + " closed the connection during login", null));
            }
        };
        // the server's bytes arrive as Netty read them, in pooled direct memory, and are framed
        // in place: no copy into a heap buffer first, as a Vert.x data handler would make
        ((NetSocketInternal) socket).messageHandler(this::onRead);
        socket.closeHandler(v -> onClosed());
        socket.exceptionHandler(e -> close());
        socket.write(PgMessages.startupMessage(Map.of("user", key.user(), "database", key.database())));
        return promise.future();
    }

    private void authenticate(Buffer message, ScramClient scram) {
        MessageReader r = new MessageReader(message);
        int code = r.readInt();
        try {
            switch (code) {
                case PgProtocol.Auth.OK -> {
                }
                case PgProtocol.Auth.SASL -> {
                    boolean offered = false;
                    for (String m = r.readCString(); !m.isEmpty(); m = r.readCString()) {
                        offered |= m.equals(Scram.MECHANISM);
                    }
                    if (!offered || scram == null) {
                        throw new LoginException("server " + key.server() + " does not offer " + Scram.MECHANISM, null);
                    }
                    // PostgreSQL takes the role from the startup message, not from SCRAM's user name
                    write(PgMessages.saslInitialResponse(Scram.MECHANISM, scram.clientFirst("").getBytes(StandardCharsets.UTF_8)));
                }
                case PgProtocol.Auth.SASL_CONTINUE -> write(PgMessages.saslResponse(
                        ScramClient.started(scram).clientFinal(r.readBytes(r.remaining()).toString(StandardCharsets.UTF_8)).getBytes(StandardCharsets.UTF_8)));
                case PgProtocol.Auth.SASL_FINAL -> ScramClient.started(scram).checkServerFinal(r.readBytes(r.remaining()).toString(StandardCharsets.UTF_8));
                default -> throw new LoginException("server " + key.server() + " asks for authentication method " + code
                        + "; the router logs in to servers with SCRAM-SHA-256 only", null);
            }
        } catch (IllegalArgumentException e) {
            throw new LoginException("SCRAM login to server " + key.server() + ": " + e.getMessage(), null);
        }
    }

    /** What the framer finds in the server's bytes; one instance, so that a read allocates no handler. */
    private final MessageFramer.Handler serverInput = new MessageFramer.Handler() {
        @Override
        public void onMessage(byte type, Buffer message) {
            if (listener != null) {
                listener.onServerMessage(ServerConnection.this, type, message);
            } else if (type == PgProtocol.Backend.ERROR_RESPONSE) {
                close();
            }
        }

        @Override
        public void onMessagePart(byte type, Buffer part, boolean first, boolean last) {
            if (listener != null) {
                listener.onServerMessagePart(ServerConnection.this, type, part, first, last);
            }
        }
    };

    /**
     * One read of the server. The messages framed from it are valid only while the listener is
     * called: whatever keeps one copies it (a client's output batch, the replies held back for a
     * retry); the framer copies a partial message it must keep.
     */
    private void onRead(Object read) {
        if (!(read instanceof ByteBuf bytes)) {
            ReferenceCountUtil.release(read);
            return;
        }
        try {
            onData(Buffer.buffer(bytes));
        } finally {
            bytes.release();
        }
    }

    private void onData(Buffer chunk) {
        if (closed) {
            return;
        }
        try {
            framer.feed(chunk, serverInput);
        } catch (ProtocolException e) {
            close();
            return;
        }
        if (listener != null) {
            listener.onServerReadComplete(this);
        }
    }

    private void onClosed() {
        closed = true;
        out.discard();
        ended.tryComplete();
        Listener l = listener;
        listener = null;
        if (l != null) {
            l.onServerClosed(this);
        }
    }

    /** Queues bytes for the server; {@link #flush()} sends them. */
    public void write(Buffer message) {
        out.add(message);
    }

    /** How many writes this connection has made to its server since its login. */
    public long writes() {
        return out.writes();
    }

    public void flush() {
        if (closed) {
            out.discard();
        } else {
            out.flush();
        }
    }

    /**
     * Stops (or starts again) reading from the server, so that a client that cannot keep up holds
     * back the server instead of gathering its output in memory. What the read under way still
     * brings is delivered; nothing more is read until reading is on again.
     */
    public void reading(boolean on) {
        socket.channelHandlerContext().channel().config().setAutoRead(on);
    }

    /** Closes the connection (politely with Terminate when it is usable). */
    public void close() {
        if (!closed) {
            closed = true;
            out.discard();
            socket.write(PgMessages.terminate());
            socket.close();
        }
    }

    public boolean isClosed() {
        return closed;
    }

    /**
     * A client's CancelRequest for this backend is on its way. Until it has been delivered the
     * connection must not serve another client, whose query the signal would otherwise stop.
     */
    public void cancelStarted() {
        cancelsInFlight++;
    }

    /** A cancel has been delivered (the server closed its cancel connection) or given up. */
    public void cancelDone() {
        if (--cancelsInFlight == 0 && afterCancels != null) {
            Runnable r = afterCancels;
            afterCancels = null;
            r.run();
        }
    }

    /** Runs {@code r} once no cancel is on its way to this backend (at once if none is). */
    public void afterCancels(Runnable r) {
        if (cancelsInFlight == 0) {
            r.run();
        } else {
            afterCancels = r;
        }
    }

    public boolean cancelling() {
        return cancelsInFlight > 0;
    }

    /** Completes once the connection is closed, by either side. */
    public Future<Void> ended() {
        return ended.future();
    }

    public void listener(Listener listener) {
        this.listener = listener;
    }

    public NetSocket socket() {
        return socket;
    }

    public PoolKey key() {
        return key;
    }

    public int id() {
        return id;
    }

    public int backendPid() {
        return backendPid;
    }

    public int backendSecret() {
        return backendSecret;
    }

    /** The parameters the server reported at login (server_version, integer_datetimes, ...). */
    public Map<String, String> reportedParameters() {
        return reported;
    }

    /** The tracked session parameters as the router left them. */
    public ServerParameters parameters() {
        return parameters;
    }

    /** Server-side names of the statements prepared on this connection. */
    public PreparedStatements prepared() {
        return prepared;
    }

    long idleSince() {
        return idleSince;
    }

    void markIdle() {
        idleSince = System.nanoTime();
    }

    @Override
    public String toString() {
        return "server#" + id + "(" + key + ", pid " + backendPid + ")";
    }
}
