package io.pgha.provisioner.local;

import io.pgha.api.ClusterNames;
import io.pgha.api.RouterAuth;
import io.pgha.api.v1.cluster.ProvisioningStatus;
import io.pgha.local.LocalLayout;
import io.pgha.local.LocalSecrets.Credentials;
import io.pgha.local.OsUser;
import io.pgha.local.PgCtl;
import io.pgha.local.PghaException;
import io.pgha.local.Processes;
import io.pgha.local.ServerProcesses;
import io.pgha.local.Sql;
import io.pgha.local.StateFiles;
import io.pgha.provisioner.model.PostgresConfig;
import org.postgresql.PGConnection;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The local platform's instances: PostgreSQL data directories under $PGHA_HOME run by pg_ctl as
 * the PostgreSQL OS user, listening on loopback only. Each method is one provisioning step.
 */
final class LocalInstances {
    private static final List<String> LOOPBACK = List.of("127.0.0.1/32", "::1/128");

    private final LocalLayout layout;
    private final PgCtl pgCtl;
    private final OsUser user;

    LocalInstances(LocalLayout layout, PgCtl pgCtl) {
        this.layout = layout;
        this.pgCtl = pgCtl;
        this.user = pgCtl.user();
    }

    int port(int serial) {
        return layout.instancePort(serial);
    }

    Path dataDir(String instance) {
        return layout.dataDir(instance);
    }

    boolean exists(String instance) {
        return Files.exists(layout.dataDir(instance).resolve("PG_VERSION"));
    }

    /** A postmaster of the instance's data directory is alive, or backends that outlived it are. */
    boolean running(String instance) {
        return ServerProcesses.running(layout.dataDir(instance));
    }

    /** initdb with checksums, configuration, start, then the roles and the application database. */
    void createPrimary(String instance, int serial, String locale, Map<String, String> shared, Credentials superuser,
                       Credentials replication, Credentials app, Credentials routerAuth) {
        // nothing was recorded for this instance, so whatever a failed earlier attempt left holds no data
        discardUnrecorded(instance);
        prepareInstanceDir(instance, replication);
        pgCtl.initdb(layout.dataDir(instance), superuser.username(), superuser.password(), locale);
        writeConfig(instance, shared);
        start(instance, serial);
        try (Connection c = Sql.connect(port(serial), superuser, "postgres"); Statement s = c.createStatement()) {
            PGConnection pg = c.unwrap(PGConnection.class);
            // in quorum mode no standby exists yet to confirm these commits
            s.execute("SET synchronous_commit TO local");
            s.execute("CREATE ROLE " + replication.username() + " WITH LOGIN REPLICATION");
            // the driver computes the SCRAM verifier, so no password ever reaches the server or its log
            pg.alterUserPassword(replication.username(), replication.password().toCharArray(), "scram-sha-256");
            s.execute("CREATE ROLE " + app.username() + " WITH LOGIN");
            pg.alterUserPassword(app.username(), app.password().toCharArray(), "scram-sha-256");
            s.execute("CREATE DATABASE " + app.database() + " OWNER " + app.username());
            // the router looks up SCRAM verifiers through one function and can read nothing else
            s.execute("CREATE ROLE " + routerAuth.username() + " WITH LOGIN");
            pg.alterUserPassword(routerAuth.username(), routerAuth.password().toCharArray(), "scram-sha-256");
            s.execute(RouterAuth.setupSql(routerAuth.username()));
        } catch (SQLException e) {
            throw new PghaException("cannot create the roles on " + instance + ": " + e.getMessage(), e);
        }
    }

    /**
     * A hot standby cloned from the primary through its own physical slot, created first on the
     * primary so that no WAL it needs can be recycled between the clone and its first stream.
     */
    void createStandby(String instance, int serial, Map<String, String> shared, int primaryPort, Credentials superuser,
                       Credentials replication) {
        discardUnrecorded(instance);
        prepareInstanceDir(instance, replication);
        ensureSlot(primaryPort, superuser, instance);
        Path data = layout.dataDir(instance);
        pgCtl.basebackup(layout.replicationConninfo(instance, primaryPort) + " application_name=" + instance, data,
                ClusterNames.replicationSlot(instance));
        pgCtl.configureStandby(layout.dataDir(instance), layout.replicationConninfo(instance, primaryPort),
                ClusterNames.replicationSlot(instance));
        writeConfig(instance, shared);
        start(instance, serial);
    }

    /**
     * Brings back, as a standby of {@code primaryPort}'s timeline, an instance that holds WAL the
     * primary's history does not (a former primary, a standby ahead of the fork point): stops it,
     * then pg_rewind, or a fresh clone when rewind fails. Returns how it was done.
     */
    String rejoin(String instance, int serial, Map<String, String> shared, int primaryPort, Credentials superuser,
                  Credentials replication) {
        Path data = layout.dataDir(instance);
        pgCtl.stop(data, PgCtl.StopMode.FAST);
        ensureSlot(primaryPort, superuser, instance);
        // pg_rewind takes the source's timeline from its pg_control, which names the new timeline
        // only after a checkpoint; without one it would find nothing to rewind
        checkpoint(primaryPort, superuser);
        Path passfile = layout.instanceDir(instance).resolve("rewind-pgpass");
        // pg_rewind needs a superuser connection; the password travels in a private passfile, removed after
        writeOwned(passfile, "*:*:*:" + superuser.username() + ":" + superuser.password() + "\n");
        Processes.Result rewind = pgCtl.rewind(data, "host=" + LocalLayout.HOST + " port=" + primaryPort + " user="
                + superuser.username() + " dbname=postgres passfile=" + passfile);
        deleteTree(passfile);
        if (rewind.ok()) {
            pgCtl.configureStandby(layout.dataDir(instance), layout.replicationConninfo(instance, primaryPort),
                    ClusterNames.replicationSlot(instance));
            writeConfig(instance, shared);
            start(instance, serial);
            return ProvisioningStatus.Instance.REJOINED_BY_REWIND;
        }
        createStandby(instance, serial, shared, primaryPort, superuser, replication);
        return ProvisioningStatus.Instance.REJOINED_BY_CLONE;
    }

    private void discardUnrecorded(String instance) {
        stop(instance, PgCtl.StopMode.IMMEDIATE);
        deleteTree(layout.instanceDir(instance));
    }

    /** Starts a standby, first making sure its slot exists on the primary it streams from. */
    void startStandby(String instance, int serial, Integer primaryPort, Credentials superuser) {
        if (primaryPort != null) {
            ensureSlot(primaryPort, superuser, instance);
        }
        start(instance, serial);
    }

    void start(String instance, int serial) {
        ensureSocketDir();
        pgCtl.start(layout.dataDir(instance),
                PostgresConfig.instanceSettings(instance, LocalLayout.HOST, port(serial), layout.socketDir().toString()),
                layout.serverLog(instance));
    }

    void stop(String instance, PgCtl.StopMode mode) {
        pgCtl.stop(layout.dataDir(instance), mode);
    }

    String clusterState(String instance) {
        return pgCtl.clusterState(layout.dataDir(instance));
    }

    boolean isStandbyDataDir(String instance) {
        return Files.exists(layout.dataDir(instance).resolve("standby.signal"));
    }

    /** Stops the instance, drops its slot on the primary and deletes its files. */
    void remove(String instance, Integer primaryPort, Credentials superuser) {
        stop(instance, PgCtl.StopMode.FAST);
        if (primaryPort != null) {
            try (Connection c = Sql.connect(primaryPort, superuser, "postgres")) {
                Sql.value(c, "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = ?",
                        ClusterNames.replicationSlot(instance));
            } catch (SQLException e) {
                throw new PghaException("cannot drop the slot of " + instance + ": " + e.getMessage(), e);
            }
        }
        deleteTree(layout.instanceDir(instance));
    }

    /**
     * Writes postgresql.conf and pg_hba.conf where they differ from what they should be (every pass
     * calls this, and each write is fsynced); true when postgresql.conf changed.
     */
    boolean writeConfig(String instance, Map<String, String> shared) {
        Path data = layout.dataDir(instance);
        writeOwnedIfChanged(data.resolve("pg_hba.conf"), PostgresConfig.renderHba(LOOPBACK));
        return writeOwnedIfChanged(data.resolve("postgresql.conf"), PostgresConfig.renderConf(shared));
    }

    private boolean writeOwnedIfChanged(Path file, String content) {
        if (content.equals(readOrEmpty(file))) {
            return false;
        }
        writeOwned(file, content);
        return true;
    }

    void reload(int serial, Credentials superuser) {
        try (Connection c = Sql.connect(port(serial), superuser, "postgres")) {
            Sql.value(c, "SELECT pg_reload_conf()");
        } catch (SQLException e) {
            throw new PghaException("cannot reload instance on port " + port(serial) + ": " + e.getMessage(), e);
        }
    }

    void deleteInstanceFiles(String instance) {
        deleteTree(layout.instanceDir(instance));
    }

    private static void checkpoint(int port, Credentials superuser) {
        try (Connection c = Sql.connect(port, superuser, "postgres"); Statement s = c.createStatement()) {
            s.execute("CHECKPOINT");
        } catch (SQLException e) {
            throw new PghaException("cannot checkpoint the instance on port " + port + ": " + e.getMessage(), e);
        }
    }

    private void ensureSlot(int primaryPort, Credentials superuser, String instance) {
        try (Connection c = Sql.connect(primaryPort, superuser, "postgres")) {
            Sql.value(c, "SELECT pg_create_physical_replication_slot(?) WHERE NOT EXISTS "
                    + "(SELECT 1 FROM pg_replication_slots WHERE slot_name = ?)",
                    ClusterNames.replicationSlot(instance), ClusterNames.replicationSlot(instance));
        } catch (SQLException e) {
            throw new PghaException("cannot create the replication slot of " + instance + ": " + e.getMessage(), e);
        }
    }

    private void prepareInstanceDir(String instance, Credentials replication) {
        try {
            user.createPrivateDirectory(layout.instanceDir(instance));
            Files.createDirectories(layout.logs());
            user.chown(layout.logs());
        } catch (IOException e) {
            throw new PghaException("cannot create " + layout.instanceDir(instance) + ": " + e.getMessage(), e);
        }
        writeOwned(layout.passfile(instance), "*:*:*:" + replication.username() + ":" + replication.password() + "\n");
    }

    private void ensureSocketDir() {
        try {
            user.createPrivateDirectory(layout.socketDir());
        } catch (IOException e) {
            throw new PghaException("cannot create " + layout.socketDir() + ": " + e.getMessage(), e);
        }
    }

    /** Writes a file only the PostgreSQL OS user can read, from the moment it exists. */
    private void writeOwned(Path file, String content) {
        StateFiles.replace(file, content.getBytes(StandardCharsets.UTF_8), StateFiles.PRIVATE, user::chown);
    }

    private static String readOrEmpty(Path file) {
        try {
            return Files.exists(file) ? Files.readString(file) : "";
        } catch (IOException e) {
            throw new PghaException("cannot read " + file + ": " + e.getMessage(), e);
        }
    }

    private static void deleteTree(Path root) {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> files = Files.walk(root)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        } catch (IOException e) {
            throw new PghaException("cannot delete " + root + ": " + e.getMessage(), e);
        }
    }
}
