package io.pgha.local.testing;

import io.pgha.local.OsUser;
import io.pgha.local.PgBinaries;
import io.pgha.local.PgCtl;
import io.pgha.local.Ports;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;

/**
 * A real, throwaway PostgreSQL 15 server for tests: initdb into a directory under /tmp (which
 * the PostgreSQL OS user can traverse when tests run as root), started on a free loopback port,
 * SCRAM-SHA-256 for every connection. Close it to stop it and delete its files.
 */
public final class TestPostgres implements AutoCloseable {
    public static final String SUPERUSER = "postgres";

    private final Path root;
    private final Path data;
    private final int port;
    private final String password = UUID.randomUUID().toString();
    private final PgCtl pgCtl;

    private TestPostgres(Map<String, String> extraSettings) throws IOException {
        root = Files.createTempDirectory(Path.of("/tmp"), "pgha-test-pg",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
        data = root.resolve("data");
        port = Ports.freePort();
        OsUser user = OsUser.forPostgres();
        user.chown(root);
        pgCtl = new PgCtl(PgBinaries.locate(), user, root.resolve("commands.log"));
        pgCtl.initdb(data, SUPERUSER, password, "C.UTF-8");
        Map<String, String> settings = new LinkedHashMap<>();
        settings.put("port", Integer.toString(port));
        settings.put("listen_addresses", "127.0.0.1");
        settings.put("unix_socket_directories", root.toString());
        settings.put("fsync", "off");
        settings.putAll(extraSettings);
        pgCtl.start(data, settings, root.resolve("server.log"));
    }

    public static TestPostgres start() throws IOException {
        return new TestPostgres(Map.of());
    }

    public static TestPostgres start(Map<String, String> settings) throws IOException {
        return new TestPostgres(settings);
    }

    public int port() {
        return port;
    }

    public String superuserPassword() {
        return password;
    }

    public Path dataDir() {
        return data;
    }

    public String jdbcUrl(String database) {
        return "jdbc:postgresql://127.0.0.1:" + port + "/" + database;
    }

    public Connection connect() throws SQLException {
        return connect(jdbcUrl("postgres"), password);
    }

    /**
     * A superuser connection to {@code url} through the driver itself, not DriverManager: in a
     * test JVM that ran Quarkus tests before, DriverManager may hold only the driver of Quarkus's
     * class loader, which it refuses to hand to this one ("No suitable driver").
     */
    static Connection connect(String url, String password) throws SQLException {
        java.util.Properties p = new java.util.Properties();
        p.setProperty("user", SUPERUSER);
        p.setProperty("password", password);
        return new org.postgresql.Driver().connect(url, p);
    }

    public PgCtl pgCtl() {
        return pgCtl;
    }

    @Override
    public void close() throws IOException {
        pgCtl.stop(data, PgCtl.StopMode.IMMEDIATE);
        TempDirectories.deleteTree(root);
    }
}
