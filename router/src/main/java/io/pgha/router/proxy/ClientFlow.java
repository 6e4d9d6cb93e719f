package io.pgha.router.proxy;

import io.pgha.router.pool.ServerConnection;
import io.vertx.core.Context;
import io.vertx.core.net.NetSocket;
import io.vertx.core.net.impl.NetSocketInternal;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.util.ReferenceCountUtil;

import java.util.ArrayDeque;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * Flow control of one client session: when the client's reads are handled, and which side stops
 * reading when the other cannot keep up.
 *
 * <p>Reads: while the session is paused (a login look-up, waiting for a server connection, a server
 * that cannot take more) a read is kept whole and the channel stops reading; the kept reads are
 * handled, in order, once every pause has ended. Reading stops only when a read arrives in a pause,
 * as Vert.x's own pause does: most pauses (a server connection lent at once) end before the next
 * read and cost nothing.
 *
 * <p>Writes: a client that does not read its replies stops the reads of the server connection it
 * holds until its socket drains; a server connection that does not take the client's requests
 * pauses the client the same way.
 */
final class ClientFlow {
    /** A login look-up is under way. */
    static final int LOGIN = 1;
    /** Waiting for a server connection (or for the admin console's answer). */
    static final int ACQUIRE = 2;
    /** The lent server connection's socket takes no more for now. */
    static final int SERVER_FULL = 4;

    private final NetSocket socket;
    /** The Netty channel under {@link #socket}: reading is stopped and started on it. */
    private final Channel channel;
    private final Context context;
    private final Consumer<ByteBuf> handler;
    private final BooleanSupplier closed;
    private int pauses;
    /** Reads that arrived while the session was paused, handled when it resumes. */
    private final ArrayDeque<ByteBuf> deferred = new ArrayDeque<>();
    /** The server connection whose reads stopped because the client's socket was full. */
    private ServerConnection pausedServer;

    /**
     * @param handler takes one read of the client; the read is released after it, so what the
     *        session keeps of it past that it copies
     * @param closed whether the session has ended (reads are then dropped)
     */
    ClientFlow(NetSocket socket, Context context, Consumer<ByteBuf> handler, BooleanSupplier closed) {
        this.socket = socket;
        this.channel = ((NetSocketInternal) socket).channelHandlerContext().channel();
        this.context = context;
        this.handler = handler;
        this.closed = closed;
    }

    /** What Netty read from the client, in pooled direct memory (no copy into a heap buffer, as a Vert.x data handler would make). */
    void onRead(Object read) {
        if (!(read instanceof ByteBuf bytes)) {
            ReferenceCountUtil.release(read);
            return;
        }
        if (closed.getAsBoolean()) {
            bytes.release();
            return;
        }
        if (pauses != 0 || !deferred.isEmpty()) {
            deferred.add(bytes);
            reading(false);
            return;
        }
        handle(bytes);
    }

    private void handle(ByteBuf bytes) {
        try {
            handler.accept(bytes);
        } finally {
            bytes.release();
        }
    }

    boolean paused(int reason) {
        return (pauses & reason) != 0;
    }

    void pause(int reason, boolean on) {
        int before = pauses;
        pauses = on ? pauses | reason : pauses & ~reason;
        if (before != 0 && pauses == 0 && !closed.getAsBoolean() && (!deferred.isEmpty() || !readingOn())) {
            // not here: a pause often ends inside a message handler, and the framer is not reentrant
            context.runOnContext(v -> resume());
        }
    }

    /** After a pause: the reads kept meanwhile, in order, then reading again. */
    private void resume() {
        while (pauses == 0 && !closed.getAsBoolean() && !deferred.isEmpty()) {
            handle(deferred.poll());
        }
        if (pauses == 0 && !closed.getAsBoolean() && deferred.isEmpty()) {
            reading(true);
        }
    }

    private boolean readingOn() {
        return channel.config().isAutoRead();
    }

    private void reading(boolean on) {
        if (readingOn() != on) {
            channel.config().setAutoRead(on);
        }
    }

    /** The client's replies were flushed: when its socket is full, {@code server} stops reading until it drains. */
    void clientFlushed(ServerConnection server) {
        if (server != null && socket.writeQueueFull() && pausedServer == null) {
            pausedServer = server;
            server.reading(false);
            socket.drainHandler(v -> resumeServer());
        }
    }

    /** The requests to {@code server} were flushed: when its socket is full, the client is paused until it drains. */
    void serverFlushed(ServerConnection server) {
        if (server.socket().writeQueueFull() && !paused(SERVER_FULL)) {
            pause(SERVER_FULL, true);
            server.socket().drainHandler(v -> pause(SERVER_FULL, false));
        }
    }

    /**
     * The session holds no server connection: the client no longer waits for one to drain (a
     * closed socket reports its write queue full and never drains).
     */
    void serverGone() {
        if (paused(SERVER_FULL)) {
            pause(SERVER_FULL, false);
        }
    }

    /** The server connection that stopped reading for this client reads again: the client drained, or the connection goes back to its pool. */
    void resumeServer() {
        if (pausedServer != null) {
            pausedServer.reading(true);
            pausedServer = null;
        }
    }

    /** The client is gone: the kept reads are released. */
    void clientGone() {
        deferred.forEach(ByteBuf::release);
        deferred.clear();
    }
}
