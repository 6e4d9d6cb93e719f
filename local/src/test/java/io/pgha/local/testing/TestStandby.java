package io.pgha.local.testing;

import io.pgha.local.OsUser;
import io.pgha.local.PgCtl;
import io.pgha.local.Ports;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A streaming standby of a {@link TestPostgres}, for tests: a physical replication slot on the
 * primary, pg_basebackup into a directory under /tmp, standby.signal and primary_conninfo as pgha
 * writes them ({@link PgCtl#configureStandby}), started on a free loopback port. Close it to stop
 * it (if it still runs) and delete its files.
 */
public final class TestStandby implements AutoCloseable {
    private final TestPostgres primary;
    private final Path root;
    private final int port;

    private TestStandby(TestPostgres primary, Path root, int port) {
        this.primary = primary;
        this.root = root;
        this.port = port;
    }

    /** A standby of {@code primary} streaming through slot {@code slot}, with {@code extraSettings} on its command line. */
    public static TestStandby start(TestPostgres primary, String slot, Map<String, String> extraSettings) throws IOException, SQLException {
        Path root = Files.createTempDirectory(Path.of("/tmp"), "pgha-test-standby",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
        OsUser.forPostgres().chown(root);
        TestStandby standby = new TestStandby(primary, root, Ports.freePort());
        try {
            try (Connection c = primary.connect(); Statement st = c.createStatement()) {
                st.execute("select pg_create_physical_replication_slot('" + slot + "')");
            }
            String conninfo = "host=127.0.0.1 port=" + primary.port() + " user=" + TestPostgres.SUPERUSER
                    + " password=" + primary.superuserPassword();
            PgCtl pgCtl = primary.pgCtl();
            pgCtl.basebackup(conninfo, standby.dataDir(), slot);
            pgCtl.configureStandby(standby.dataDir(), conninfo, slot);
            Map<String, String> settings = new LinkedHashMap<>();
            settings.put("port", Integer.toString(standby.port));
            settings.put("listen_addresses", "127.0.0.1");
            settings.put("unix_socket_directories", root.toString());
            settings.put("fsync", "off");
            settings.putAll(extraSettings);
            pgCtl.start(standby.dataDir(), settings, root.resolve("server.log"));
            return standby;
        } catch (SQLException | RuntimeException e) {
            standby.close();
            throw e;
        }
    }

    public int port() {
        return port;
    }

    public Path dataDir() {
        return root.resolve("data");
    }

    /** A superuser connection (the primary's superuser and password, which the standby copied). */
    public Connection connect() throws SQLException {
        return TestPostgres.connect("jdbc:postgresql://127.0.0.1:" + port + "/postgres", primary.superuserPassword());
    }

    @Override
    public void close() throws IOException {
        if (Files.isDirectory(dataDir())) {
            primary.pgCtl().stop(dataDir(), PgCtl.StopMode.IMMEDIATE);
        }
        TempDirectories.deleteTree(root);
    }
}
