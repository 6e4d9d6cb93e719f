package io.pgha.router.proxy;

import io.pgha.router.pool.PoolStats;
import io.pgha.router.pool.ServerPool;
import io.pgha.router.protocol.PgMessages;
import io.pgha.router.protocol.PgProtocol;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The PgBouncer-style admin console: a virtual database (default {@code pgha}) that admin roles
 * query with the simple protocol. {@code SHOW POOLS|STATS|CLIENTS|SERVERS|VERSION}, {@code PAUSE}
 * (answers once transactions in flight have finished) and {@code RESUME}.
 */
final class AdminConsole {
    private AdminConsole() {
    }

    /** Runs one admin command; the future gives the complete reply, ReadyForQuery included. */
    static Future<Buffer> run(Router router, String sql) {
        String command = normalize(sql);
        Buffer reply = Buffer.buffer();
        switch (command) {
            case "SHOW POOLS" -> table(reply, List.of("database", "user", "server", "cl_waiting", "sv_active", "sv_idle", "sv_total",
                    "pool_size"),
                    pools(router));
            case "SHOW STATS" -> {
                PoolStats s = router.pools().stats();
                table(reply, List.of("server_logins", "server_login_failures", "acquisitions", "wait_timeouts", "total_wait_us", "paused_transactions"),
                        List.of(List.of(Long.toString(s.opened.sum()), Long.toString(s.connectFailures.sum()), Long.toString(s.acquisitions.sum()),
                                Long.toString(s.waitTimeouts.sum()), Long.toString(s.waitNanos.sum() / 1000), Integer.toString(router.pausedTransactions()))));
            }
            case "SHOW CLIENTS" -> {
                List<List<String>> rows = new ArrayList<>();
                for (ClientSession c : router.sessions()) {
                    rows.add(c.adminRow());
                }
                table(reply, List.of("user", "database", "state", "server", "pinned", "address"), rows);
            }
            case "SHOW SERVERS" -> {
                List<List<String>> rows = new ArrayList<>();
                for (ClientSession c : router.sessions()) {
                    if (c.server() != null) {
                        rows.add(List.of(c.server().key().user(), c.server().key().database(), c.server().key().server().toString(),
                                "active", Integer.toString(c.server().backendPid())));
                    }
                }
                for (ServerPool p : router.pools().pools()) {
                    for (int i = 0; i < p.idleCount(); i++) {
                        rows.add(List.of(p.key().user(), p.key().database(), p.key().server().toString(), "idle", ""));
                    }
                }
                table(reply, List.of("user", "database", "server", "state", "backend_pid"), rows);
            }
            case "SHOW VERSION" -> table(reply, List.of("version"), List.of(List.of("pgha router")));
            case "PAUSE" -> {
                return router.pause().map(v -> done(Buffer.buffer(), "PAUSE"));
            }
            case "RESUME" -> {
                return router.resume().map(v -> done(Buffer.buffer(), "RESUME"));
            }
            default -> {
                reply.appendBuffer(PgMessages.errorResponse("ERROR", PgProtocol.SqlState.FEATURE_NOT_SUPPORTED,
                        "unknown admin command; try SHOW POOLS, SHOW STATS, SHOW CLIENTS, SHOW SERVERS, PAUSE, RESUME"));
                reply.appendBuffer(PgMessages.readyForQuery(PgProtocol.TxStatus.IDLE));
                return Future.succeededFuture(reply);
            }
        }
        return Future.succeededFuture(done(reply, "SHOW"));
    }

    /** A command as typed, without trailing semicolons, in upper case with single spaces. */
    static String normalize(String sql) {
        return sql.strip().replaceAll(";+$", "").strip().replaceAll("\\s+", " ").toUpperCase(Locale.ROOT);
    }

    private static List<List<String>> pools(Router router) {
        List<List<String>> rows = new ArrayList<>();
        for (ServerPool p : router.pools().pools()) {
            rows.add(List.of(p.key().database(), p.key().user(), p.key().server().toString(), Integer.toString(p.waiting()),
                    Integer.toString(p.active()), Integer.toString(p.idleCount()), Integer.toString(p.total()), Integer.toString(p.maxSize())));
        }
        return rows;
    }

    private static void table(Buffer reply, List<String> columns, List<List<String>> rows) {
        reply.appendBuffer(PgMessages.rowDescription(columns));
        for (List<String> row : rows) {
            reply.appendBuffer(PgMessages.dataRow(row));
        }
    }

    private static Buffer done(Buffer reply, String tag) {
        return reply.appendBuffer(PgMessages.commandComplete(tag)).appendBuffer(PgMessages.readyForQuery(PgProtocol.TxStatus.IDLE));
    }
}
