package io.pgha.router.proxy;

import io.pgha.local.testing.TestPostgres;
import io.pgha.api.RouterAuth;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * Two real, independent PostgreSQL servers shared by the router's tests (one JVM, started once):
 * one plays the primary, the other a standby. They are not replicated, so that
 * {@code inet_server_port()} proves where a statement ran; the roles carry the same SCRAM secret
 * on both, as replication would make them. pgbench tables exist on both.
 */
public final class TestCluster {
    public static final String APP_USER = "app";
    public static final String APP_PASSWORD = "app-secret";
    public static final String AUTH_USER = "pgha_router_auth";
    public static final String AUTH_PASSWORD = "auth-secret";

    /** Where a started cluster is published, so that Quarkus' class loader finds the same servers. */
    private static final String SHARED_PROPERTY = "pghatest.router.cluster";
    private static TestCluster shared;

    /** A test server: its port and superuser password. */
    public record Server(int port, String superuserPassword) {
        public Connection connect() throws SQLException {
            return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/postgres", TestPostgres.SUPERUSER, superuserPassword);
        }
    }

    static {
        try {
            // register the driver with this class loader's copy (Quarkus tests load their own)
            Class.forName("org.postgresql.Driver");
        } catch (ClassNotFoundException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    public final Server primary;
    public final Server standby;

    private TestCluster(Server primary, Server standby) {
        this.primary = primary;
        this.standby = standby;
    }

    public static synchronized TestCluster get() {
        if (shared == null) {
            String published = System.getProperty(SHARED_PROPERTY);
            if (published != null) {
                String[] f = published.split(" ");
                shared = new TestCluster(new Server(Integer.parseInt(f[0]), f[1]), new Server(Integer.parseInt(f[2]), f[3]));
                return shared;
            }
            try {
                // the primary offers TLS (so the router's TLS to servers is exercised), the standby does not
                TestPostgres p = TestPostgres.start(serverTlsSettings());
                TestPostgres s = TestPostgres.start();
                shared = new TestCluster(new Server(p.port(), p.superuserPassword()), new Server(s.port(), s.superuserPassword()));
                shared.provision();
                System.setProperty(SHARED_PROPERTY, p.port() + " " + p.superuserPassword() + " " + s.port() + " " + s.superuserPassword());
                Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                    try {
                        p.close();
                        s.close();
                    } catch (IOException ignored) {
                        // the JVM is going away
                    }
                }));
            } catch (IOException | SQLException e) {
                throw new IllegalStateException("cannot start the test servers", e);
            }
        }
        return shared;
    }

    /** ssl=on with a throwaway self-signed certificate readable by the PostgreSQL OS user. */
    private static java.util.Map<String, String> serverTlsSettings() throws IOException {
        java.nio.file.Path dir = java.nio.file.Files.createTempDirectory(java.nio.file.Path.of("/tmp"), "pgha-router-certs",
                java.nio.file.attribute.PosixFilePermissions.asFileAttribute(java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x")));
        java.nio.file.Path cert = dir.resolve("server.crt");
        java.nio.file.Path key = dir.resolve("server.key");
        // removed at exit in reverse order: files first, then the directory
        dir.toFile().deleteOnExit();
        cert.toFile().deleteOnExit();
        key.toFile().deleteOnExit();
        try {
            Process p = new ProcessBuilder("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key.toString(),
                    "-out", cert.toString(), "-days", "1", "-subj", "/CN=localhost").redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            if (p.waitFor() != 0) {
                throw new IOException("openssl could not make a certificate");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
        }
        java.nio.file.Files.setPosixFilePermissions(key, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
        io.pgha.local.OsUser user = io.pgha.local.OsUser.forPostgres();
        user.chown(dir);
        user.chown(key);
        user.chown(cert);
        return java.util.Map.of("ssl", "on", "ssl_cert_file", cert.toString(), "ssl_key_file", key.toString());
    }

    private void provision() throws SQLException, IOException {
        exec(primary, "CREATE ROLE " + APP_USER + " LOGIN PASSWORD '" + APP_PASSWORD + "'");
        exec(primary, "CREATE ROLE " + AUTH_USER + " LOGIN PASSWORD '" + AUTH_PASSWORD + "'");
        for (String role : new String[] {APP_USER, AUTH_USER}) {
            String secret = scalar(primary, "SELECT rolpassword FROM pg_authid WHERE rolname = '" + role + "'");
            exec(standby, "CREATE ROLE " + role + " LOGIN PASSWORD '" + secret + "'");
        }
        // like a hot standby, the standby refuses writes from the application role
        exec(standby, "ALTER ROLE " + APP_USER + " SET default_transaction_read_only = on");
        for (Server pg : new Server[] {primary, standby}) {
            exec(pg, RouterAuth.FUNCTION_SQL);
            exec(pg, RouterAuth.grantSql(AUTH_USER));
            exec(pg, "GRANT ALL ON SCHEMA public TO " + APP_USER);
            exec(pg, "CREATE TABLE items (id serial PRIMARY KEY, note text)");
            exec(pg, "CREATE SEQUENCE counter");
            exec(pg, "GRANT ALL ON items, items_id_seq, counter TO " + APP_USER);
            pgbenchInit(pg);
        }
    }

    /** Creates the same role with the same SCRAM secret on both servers (what replication would do). */
    public void createRole(String name, String password) {
        try {
            exec(primary, "CREATE ROLE " + name + " LOGIN PASSWORD '" + password + "'");
            String secret = scalar(primary, "SELECT rolpassword FROM pg_authid WHERE rolname = '" + name + "'");
            exec(standby, "CREATE ROLE " + name + " LOGIN PASSWORD '" + secret + "'");
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void pgbenchInit(Server pg) throws IOException {
        Tools.Result r = Tools.run(pg.superuserPassword(), null, Tools.PGBENCH, "-i", "-s", "1", "-q", "-h", "127.0.0.1",
                "-p", Integer.toString(pg.port()), "-U", TestPostgres.SUPERUSER, "postgres");
        if (r.exitCode() != 0) {
            throw new IllegalStateException("pgbench -i failed: " + r.output());
        }
        try {
            exec(pg, "GRANT ALL ON pgbench_accounts, pgbench_branches, pgbench_tellers, pgbench_history TO " + APP_USER);
        } catch (SQLException e) {
            throw new UncheckedIOException(new IOException(e));
        }
    }

    public static void exec(Server pg, String sql) throws SQLException {
        try (Connection c = pg.connect(); Statement s = c.createStatement()) {
            s.execute(sql);
        }
    }

    public static String scalar(Server pg, String sql) throws SQLException {
        try (Connection c = pg.connect(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getString(1);
        }
    }
}
