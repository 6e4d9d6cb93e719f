package io.pgha.router.proxy;

import io.pgha.router.pool.PoolMode;
import io.pgha.router.pool.ServerPool;
import io.pgha.router.protocol.PgMessages;
import io.pgha.router.protocol.PgProtocol;
import io.pgha.router.protocol.PgProtocol.TypeOid;
import io.pgha.router.topology.Topology;
import io.vertx.core.buffer.Buffer;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * The admin console in PgBouncer's dialect, for the monitoring tools written against PgBouncer
 * (Debian's prometheus-pgbouncer-exporter among them): the virtual database {@value #DATABASE}
 * answers {@code SHOW STATS}, {@code POOLS}, {@code DATABASES}, {@code LISTS}, {@code CONFIG} and
 * {@code VERSION} with PgBouncer 1.18's column names and types, filled from the router's own
 * counters. A PgBouncer pool is one role on one database; the router's pools are per server too, so
 * their figures are summed over servers. Runs on the router's event loop, outside the sessions'
 * relay.
 */
final class PgBouncerConsole {
    /** The admin database's name, as in PgBouncer. */
    static final String DATABASE = "pgbouncer";
    private static final long NANOS_PER_MICRO = 1_000;
    private static final long MICROS_PER_SECOND = 1_000_000;

    private PgBouncerConsole() {
    }

    /** Answers one command with a complete reply, ReadyForQuery included. */
    static Buffer run(Router router, String sql) {
        String command = AdminConsole.normalize(sql);
        Table table = switch (command) {
            case "SHOW STATS" -> stats(router);
            case "SHOW POOLS" -> pools(router);
            case "SHOW DATABASES" -> databases(router);
            case "SHOW LISTS" -> lists(router);
            case "SHOW CONFIG" -> config(router);
            case "SHOW VERSION" -> new Table().column("version", TypeOid.TEXT).row("pgha router (PgBouncer-compatible admin console)");
            default -> null;
        };
        Buffer reply = Buffer.buffer();
        if (table == null) {
            reply.appendBuffer(PgMessages.errorResponse("ERROR", PgProtocol.SqlState.FEATURE_NOT_SUPPORTED,
                    "unsupported command \"" + command + "\" in the pgbouncer admin console; it answers SHOW STATS, SHOW POOLS, "
                            + "SHOW DATABASES, SHOW LISTS, SHOW CONFIG and SHOW VERSION"));
        } else {
            table.writeTo(reply);
            reply.appendBuffer(PgMessages.commandComplete("SHOW"));
        }
        return reply.appendBuffer(PgMessages.readyForQuery(PgProtocol.TxStatus.IDLE));
    }

    /** Per database: PgBouncer's totals, plus total_requests, the name older PgBouncers (and exporters) use for queries. */
    private static Table stats(Router router) {
        Map<String, long[]> waited = new TreeMap<>();
        for (ServerPool p : router.pools().pools()) {
            waited.computeIfAbsent(p.key().database(), d -> new long[1])[0] += p.waitedNanos();
        }
        Table t = new Table().column("database", TypeOid.TEXT).column("total_xact_count", TypeOid.INT8)
                .column("total_query_count", TypeOid.INT8).column("total_requests", TypeOid.INT8)
                .column("total_received", TypeOid.INT8).column("total_sent", TypeOid.INT8)
                .column("total_xact_time", TypeOid.INT8).column("total_query_time", TypeOid.INT8).column("total_wait_time", TypeOid.INT8);
        for (Map.Entry<String, DatabaseStats> e : new TreeMap<>(router.databaseStats()).entrySet()) {
            DatabaseStats s = e.getValue();
            long[] w = waited.get(e.getKey());
            long serverMicros = s.serverNanos / NANOS_PER_MICRO;
            t.row(e.getKey(), s.transactions, s.queries, s.queries, s.receivedBytes, s.sentBytes, serverMicros, serverMicros,
                    w == null ? 0 : w[0] / NANOS_PER_MICRO);
        }
        return t;
    }

    /** One pool per database and role: clients from the sessions, servers summed over the router's per-server pools. */
    private static Table pools(Router router) {
        Map<String, long[]> byPool = new TreeMap<>();
        final int clActive = 0, clWaiting = 1, svActive = 2, svIdle = 3, svLogin = 4, maxWait = 5;
        for (ClientSession c : router.sessions()) {
            if (c.loggedIn() && !c.isAdmin()) {
                long[] v = byPool.computeIfAbsent(poolName(c.database(), c.user()), k -> new long[6]);
                v[c.waiting() ? clWaiting : clActive]++;
            }
        }
        for (ServerPool p : router.pools().pools()) {
            long[] v = byPool.computeIfAbsent(poolName(p.key().database(), p.key().user()), k -> new long[6]);
            v[svActive] += p.active();
            v[svIdle] += p.idleCount();
            v[svLogin] += p.opening();
            v[maxWait] = Math.max(v[maxWait], p.maxWaitNanos() / NANOS_PER_MICRO);
        }
        Table t = new Table().column("database", TypeOid.TEXT).column("user", TypeOid.TEXT)
                .column("cl_active", TypeOid.INT4).column("cl_waiting", TypeOid.INT4)
                .column("cl_active_cancel_req", TypeOid.INT4).column("cl_waiting_cancel_req", TypeOid.INT4)
                .column("sv_active", TypeOid.INT4).column("sv_active_cancel", TypeOid.INT4).column("sv_being_canceled", TypeOid.INT4)
                .column("sv_idle", TypeOid.INT4).column("sv_used", TypeOid.INT4).column("sv_tested", TypeOid.INT4)
                .column("sv_login", TypeOid.INT4).column("maxwait", TypeOid.INT4).column("maxwait_us", TypeOid.INT4)
                .column("pool_mode", TypeOid.TEXT);
        String mode = poolMode(router);
        byPool.forEach((name, v) -> {
            String[] dbUser = name.split("\0", 2);
            t.row(dbUser[0], dbUser[1], v[clActive], v[clWaiting], 0, 0, v[svActive], 0, 0, v[svIdle], 0, 0, v[svLogin],
                    v[maxWait] / MICROS_PER_SECOND, v[maxWait] % MICROS_PER_SECOND, mode);
        });
        return t;
    }

    /** The databases clients used, each behind the current primary, with the router's pool settings. */
    private static Table databases(Router router) {
        Map<String, long[]> connections = new TreeMap<>();
        router.databaseStats().keySet().forEach(db -> connections.put(db, new long[1]));
        for (ServerPool p : router.pools().pools()) {
            connections.computeIfAbsent(p.key().database(), d -> new long[1])[0] += p.total();
        }
        Topology topology = router.topology.current();
        String host = topology == null ? null : topology.primary().host();
        Integer port = topology == null ? null : topology.primary().port();
        Table t = new Table().column("name", TypeOid.TEXT).column("host", TypeOid.TEXT).column("port", TypeOid.INT4)
                .column("database", TypeOid.TEXT).column("force_user", TypeOid.TEXT).column("pool_size", TypeOid.INT4)
                .column("min_pool_size", TypeOid.INT4).column("reserve_pool", TypeOid.INT4).column("pool_mode", TypeOid.TEXT)
                .column("max_connections", TypeOid.INT4).column("current_connections", TypeOid.INT4)
                .column("paused", TypeOid.INT4).column("disabled", TypeOid.INT4);
        RouterSettings s = router.settings();
        connections.forEach((db, n) -> t.row(db, host, port, db, null, s.poolSize(), 0, 0, poolMode(router), 0, n[0],
                router.paused() ? 1 : 0, 0));
        return t;
    }

    /** PgBouncer's internal lists, as counts (a key and a value per row). */
    private static Table lists(Router router) {
        int used = 0;
        int login = 0;
        java.util.Set<String> users = new java.util.HashSet<>();
        for (ClientSession c : router.sessions()) {
            if (c.loggedIn()) {
                used++;
                users.add(c.user());
            } else {
                login++;
            }
        }
        int usedServers = 0;
        int freeServers = 0;
        java.util.Set<String> databases = new java.util.HashSet<>(router.databaseStats().keySet());
        java.util.Set<String> pools = new java.util.HashSet<>();
        for (ServerPool p : router.pools().pools()) {
            usedServers += p.total() - p.idleCount();
            freeServers += p.idleCount();
            databases.add(p.key().database());
            users.add(p.key().user());
            pools.add(poolName(p.key().database(), p.key().user()));
        }
        Table t = new Table().column("list", TypeOid.TEXT).column("items", TypeOid.INT4);
        t.row("databases", databases.size()).row("users", users.size()).row("pools", pools.size())
                .row("free_clients", 0).row("used_clients", used).row("login_clients", login)
                .row("free_servers", freeServers).row("used_servers", usedServers)
                .row("dns_names", 0).row("dns_zones", 0).row("dns_queries", 0).row("dns_pending", 0);
        return t;
    }

    /** The router's settings under PgBouncer's names, where PgBouncer has the same setting. */
    private static Table config(Router router) {
        RouterSettings s = router.settings();
        RouterSettings d = RouterSettings.defaults();
        Table t = new Table().column("key", TypeOid.TEXT).column("value", TypeOid.TEXT).column("default", TypeOid.TEXT)
                .column("changeable", TypeOid.TEXT);
        t.row("pool_mode", poolMode(router), d.poolMode().name().toLowerCase(Locale.ROOT), "yes")
                .row("default_pool_size", s.poolSize(), d.poolSize(), "yes")
                .row("max_client_conn", s.maxClientConnections(), d.maxClientConnections(), "yes")
                .row("query_wait_timeout", s.waitTimeout().toSeconds(), d.waitTimeout().toSeconds(), "no")
                .row("server_idle_timeout", s.idleTimeout().toSeconds(), d.idleTimeout().toSeconds(), "no")
                .row("client_login_timeout", s.loginTimeout().toSeconds(), d.loginTimeout().toSeconds(), "no")
                .row("max_packet_size", s.maxMessageSize(), d.maxMessageSize(), "no")
                .row("max_prepared_statements", s.maxPreparedStatements(), d.maxPreparedStatements(), "no")
                .row("server_reset_query_always", s.resetOnRelease() ? 1 : 0, d.resetOnRelease() ? 1 : 0, "no");
        return t;
    }

    private static String poolMode(Router router) {
        return router.settings().poolMode() == PoolMode.SESSION ? "session" : "transaction";
    }

    private static String poolName(String database, String user) {
        return database + "\0" + user;
    }

    /** A result set being built: typed columns, rows of values sent as text (null is SQL NULL). */
    private static final class Table {
        private final List<String> columns = new ArrayList<>();
        private final List<Integer> types = new ArrayList<>();
        private final List<List<String>> rows = new ArrayList<>();

        Table column(String name, int typeOid) {
            columns.add(name);
            types.add(typeOid);
            return this;
        }

        Table row(Object... values) {
            if (values.length != columns.size()) {
                throw new IllegalStateException(values.length + " values for " + columns.size() + " columns");
            }
            List<String> row = new ArrayList<>(values.length);
            for (Object v : values) {
                row.add(v == null ? null : v.toString());
            }
            rows.add(row);
            return this;
        }

        void writeTo(Buffer reply) {
            reply.appendBuffer(PgMessages.rowDescription(columns, types.stream().mapToInt(Integer::intValue).toArray()));
            for (List<String> row : rows) {
                reply.appendBuffer(PgMessages.dataRow(row));
            }
        }
    }
}
