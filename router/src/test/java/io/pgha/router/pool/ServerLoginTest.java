package io.pgha.router.pool;

import io.pgha.router.pool.ServerConnection.LoginException;
import io.pgha.router.protocol.PgProtocol;
import io.pgha.router.topology.ServerAddress;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The router's login to a server that does not follow the protocol: a server is not trusted to
 * drive the router's SCRAM client into a state it was never put in. The server here is a socket
 * that answers any startup message with one authentication request.
 */
class ServerLoginTest {
    private Vertx vertx;
    private NetServer server;
    private NetClient client;

    @BeforeEach
    void start() {
        vertx = Vertx.vertx();
        client = vertx.createNetClient();
    }

    @AfterEach
    void stop() throws Exception {
        vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    @Test
    void aServerThatContinuesAScramExchangeWithALoginThatHasNoKeysIsRefusedByName() throws Exception {
        LoginException refused = loginAnsweredWith(PgProtocol.Auth.SASL_CONTINUE, "r=nonce,s=c2FsdA==,i=4096");
        assertTrue(refused.getMessage().contains("SCRAM exchange that was never started"), refused.getMessage());
    }

    @Test
    void aServerThatEndsAScramExchangeWithALoginThatHasNoKeysIsRefusedByName() throws Exception {
        LoginException refused = loginAnsweredWith(PgProtocol.Auth.SASL_FINAL, "v=c2lnbmF0dXJl");
        assertTrue(refused.getMessage().contains("SCRAM exchange that was never started"), refused.getMessage());
    }

    /** Logs in without client keys to a server that answers the startup with {@code code} and {@code data}. */
    private LoginException loginAnsweredWith(int code, String data) throws Exception {
        server = vertx.createNetServer().connectHandler(socket -> socket.handler(startup -> {
            Buffer body = Buffer.buffer().appendInt(code).appendString(data);
            socket.write(Buffer.buffer().appendByte(PgProtocol.Backend.AUTHENTICATION).appendInt(4 + body.length()).appendBuffer(body));
        }));
        int port = server.listen(0, "127.0.0.1").toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS).actualPort();
        PoolKey key = new PoolKey("app", "app", new ServerAddress("127.0.0.1", port));
        var login = ServerConnection.open(client, key, null, 1 << 20, ServerTls.DISABLE, false)
                .toCompletionStage().toCompletableFuture();
        Exception failed = assertThrows(Exception.class, () -> login.get(10, TimeUnit.SECONDS));
        return assertInstanceOf(LoginException.class, failed.getCause());
    }
}
