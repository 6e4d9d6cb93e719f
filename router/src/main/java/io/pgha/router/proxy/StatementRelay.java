package io.pgha.router.proxy;

import io.pgha.router.pool.ServerConnection;
import io.pgha.router.protocol.FrontendMessages;
import io.pgha.router.protocol.PgMessages;
import io.pgha.router.protocol.PgProtocol;
import io.pgha.router.protocol.PgProtocol.Frontend;
import io.pgha.router.proxy.ReplyQueue.Expect;
import io.pgha.router.routing.Classification;
import io.vertx.core.buffer.Buffer;

import java.util.function.Consumer;
import java.util.function.IntSupplier;

/**
 * A client's Parse, Bind, Describe and Close, written to the server connection it is lent: its
 * named statements go under their shared server-side names ({@link ClientStatements}), prepared
 * on a connection the first time one is used there, with the least recently used closed when a
 * connection holds the most it may. What the server is not asked (a Parse it has already seen, a
 * Close of a named statement, which servers keep for other clients) the router answers itself, in
 * its place among the replies ({@link ReplyQueue}).
 */
final class StatementRelay {
    private final ClientStatements statements;
    private final ReplyQueue expects;
    private final IntSupplier maxPrepared;
    private final Consumer<Buffer> toClient;

    /**
     * @param maxPrepared the statements a server connection may hold, read each time one is prepared (settings reload)
     * @param toClient    where an answer of the router's own goes when no reply is awaited before it
     */
    StatementRelay(ClientStatements statements, ReplyQueue expects, IntSupplier maxPrepared, Consumer<Buffer> toClient) {
        this.statements = statements;
        this.expects = expects;
        this.maxPrepared = maxPrepared;
        this.toClient = toClient;
    }

    /** A Parse, already decoded and classified. */
    void parse(ServerConnection server, Buffer message, FrontendMessages.Parse parse, Classification c) {
        if (parse.statement().isEmpty()) {
            server.write(message);
            expects.add(Expect.PARSE_UNNAMED);
            return;
        }
        ClientStatements.Statement s = statements.define(parse.statement(), parse.query(), parse.parameterTypes(), c);
        if (server.prepared().has(s.serverName())) {
            answer(PgMessages.parseComplete());
        } else {
            prepare(server, s, false);
        }
    }

    /** A Bind: returns the client's named statement it binds, or null (the unnamed statement, or a name the client never prepared). */
    ClientStatements.Statement bind(ServerConnection server, Buffer message) {
        FrontendMessages.Bind bind = FrontendMessages.bind(message);
        ClientStatements.Statement s = statements.get(bind.statement());
        if (s == null) {
            server.write(message);
        } else {
            ensurePrepared(server, s);
            server.write(PgMessages.bind(bind.portal(), s.serverName(), message, bind.restOffset()));
        }
        expects.add(Expect.BIND);
        return s;
    }

    void describe(ServerConnection server, Buffer message) {
        FrontendMessages.Target t = FrontendMessages.target(message);
        ClientStatements.Statement s = t.isStatement() ? statements.get(t.name()) : null;
        if (s == null) {
            server.write(message);
        } else {
            ensurePrepared(server, s);
            server.write(PgMessages.target(Frontend.DESCRIBE, PgProtocol.TARGET_STATEMENT, s.serverName()));
        }
        expects.add(Expect.DESCRIBE);
    }

    void close(ServerConnection server, Buffer message) {
        FrontendMessages.Target t = FrontendMessages.target(message);
        if (t.isStatement() && !t.name().isEmpty()) {
            // servers keep the statement for other clients; the router answers itself
            statements.close(t.name());
            answer(PgMessages.closeComplete());
        } else {
            server.write(message);
            expects.add(Expect.CLOSE);
        }
    }

    private void ensurePrepared(ServerConnection server, ClientStatements.Statement s) {
        if (!server.prepared().has(s.serverName())) {
            prepare(server, s, true);
        }
    }

    /** {@code swallowed}: the client did not send this Parse, so its ParseComplete is not passed on. */
    private void prepare(ServerConnection server, ClientStatements.Statement s, boolean swallowed) {
        makeRoom(server);
        server.prepared().add(s.serverName());
        server.write(PgMessages.parse(s.serverName(), s.query(), s.parameterTypes()));
        expects.addParse(s.serverName(), swallowed);
    }

    /**
     * Closes the least recently used statement when the connection holds the maximum. Safe in a
     * pipeline: requests already sent ran before the Close, and a later one that needs the statement
     * prepares it again.
     */
    private void makeRoom(ServerConnection server) {
        while (server.prepared().size() >= maxPrepared.getAsInt()) {
            String oldest = server.prepared().evictOldest();
            server.write(PgMessages.target(Frontend.CLOSE, PgProtocol.TARGET_STATEMENT, oldest));
            expects.add(Expect.CLOSE_SWALLOW);
        }
    }

    /** A reply the router gives itself, placed after the replies to everything sent before. */
    private void answer(Buffer reply) {
        if (!expects.synthetic(reply)) {
            toClient.accept(reply);
        }
    }
}
