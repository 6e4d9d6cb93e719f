package io.pgha.router.proxy;

import io.pgha.router.pool.ServerConnection;
import io.pgha.router.pool.ServerPool;
import io.pgha.router.protocol.PgMessages;
import io.pgha.router.protocol.PgProtocol;
import io.vertx.core.buffer.Buffer;

/**
 * Cleans a server connection whose client kept session state (session pooling, or a pinned client
 * in transaction pooling) with {@code DISCARD ALL} before it goes back to its pool; a connection
 * that fails the reset is closed.
 */
final class ServerResetter implements ServerConnection.Listener {
    private final ServerPool pool;
    private boolean failed;

    private ServerResetter(ServerPool pool) {
        this.pool = pool;
    }

    static void reset(ServerConnection server, ServerPool pool) {
        server.listener(new ServerResetter(pool));
        server.write(PgMessages.query("DISCARD ALL"));
        server.flush();
    }

    @Override
    public void onServerMessage(ServerConnection server, byte type, Buffer message) {
        if (type == PgProtocol.Backend.ERROR_RESPONSE) {
            failed = true;
        } else if (type == PgProtocol.Backend.READY_FOR_QUERY) {
            server.listener(null);
            if (failed) {
                server.close();
                pool.closed(server);
            } else {
                server.prepared().clear();
                server.parameters().reset();
                pool.release(server);
            }
        }
    }

    @Override
    public void onServerMessagePart(ServerConnection server, byte type, Buffer part, boolean first, boolean last) {
    }

    @Override
    public void onServerReadComplete(ServerConnection server) {
    }

    @Override
    public void onServerClosed(ServerConnection server) {
        pool.closed(server);
    }
}
