package io.pgha.local;

import io.pgha.api.ClusterNames;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/**
 * Where everything lives under the state directory ($PGHA_HOME) in local mode, and which
 * loopback port each part listens on. Every local path and port is derived here.
 */
public final class LocalLayout {
    public static final String ENV_HOME = "PGHA_HOME";
    public static final String ENV_PORT_BASE = "PGHA_PORT_BASE";
    public static final int DEFAULT_PORT_BASE = 6432;
    /** pgha uses ports base .. base+SPAN-1 and nothing else. */
    public static final int PORT_SPAN = 50;
    /** Every local listener is on loopback. */
    public static final String HOST = "127.0.0.1";
    /** The namespace of the one cluster a state directory holds. */
    public static final String NAMESPACE = "default";

    /** An instance's data directory, inside its instance directory. */
    private static final String DATA_DIR = "data";

    /** The four services, in the order of their HTTP ports (base+40 ...). */
    public enum Service { PROVISIONER, MONITOR, ROUTER, BACKUP }

    private final Path home;
    private final int portBase;

    public LocalLayout(Path home, int portBase) {
        this.home = home.toAbsolutePath().normalize();
        this.portBase = portBase;
    }

    /** From $PGHA_HOME (default .pgha in the working directory) and $PGHA_PORT_BASE (default 6432). */
    public static LocalLayout fromEnvironment() {
        String home = System.getenv().getOrDefault(ENV_HOME, ".pgha");
        String base = System.getenv().getOrDefault(ENV_PORT_BASE, Integer.toString(DEFAULT_PORT_BASE));
        return new LocalLayout(Path.of(home), Integer.parseInt(base));
    }

    public Path home() {
        return home;
    }

    /** The resource store (the local stand-in for the Kubernetes API). */
    public Path store() {
        return home.resolve("store");
    }

    /** Where every instance's directory lives. */
    public Path instancesDir() {
        return home.resolve("instances");
    }

    public Path instanceDir(String instance) {
        return instancesDir().resolve(instance);
    }

    /** True when any instance has a data directory: a database exists, with the passwords it was given. */
    public boolean hasInstanceData() {
        if (!Files.isDirectory(instancesDir())) {
            return false;
        }
        try (Stream<Path> dirs = Files.list(instancesDir())) {
            return dirs.anyMatch(d -> Files.isDirectory(d.resolve(DATA_DIR)));
        } catch (IOException e) {
            throw new PghaException("cannot list " + instancesDir() + ": " + e.getMessage(), e);
        }
    }

    public Path dataDir(String instance) {
        return instanceDir(instance).resolve(DATA_DIR);
    }

    /** The replication user's passfile, readable by the PostgreSQL OS user only. */
    public Path passfile(String instance) {
        return instanceDir(instance).resolve("pgpass");
    }

    /**
     * The connection string {@code standby} streams from the primary at {@code primaryPort} with:
     * the replication role and the standby's own passfile, never a password.
     */
    public String replicationConninfo(String standby, int primaryPort) {
        return "host=" + HOST + " port=" + primaryPort + " user=" + ClusterNames.REPLICATION_USER
                + " passfile=" + conninfoValue(passfile(standby).toString()) + " sslmode=prefer";
    }

    /** A libpq keyword value, quoted when it holds a space or a quote. */
    static String conninfoValue(String value) {
        if (!value.isEmpty() && value.chars().noneMatch(c -> c == ' ' || c == '\'' || c == '\\')) {
            return value;
        }
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'";
    }

    /** Unix sockets of every instance. */
    public Path socketDir() {
        return home.resolve("run").resolve("sockets");
    }

    /** PID files of the services. */
    public Path runDir() {
        return home.resolve("run");
    }

    /**
     * Where the backup service writes the segments a restoring instance will ask for next, and its
     * restore_command takes them from (by a rename: on the instances' file system, owned by the
     * PostgreSQL OS user).
     */
    public Path restoreSpool() {
        return runDir().resolve("restore-spool");
    }

    /**
     * Made by restore_command each time the backup service answers that the archive holds no such
     * file: a restore held at the archive's end ({@code PgCtl#configureRecovery}) is promoted once
     * it waits there, and this tells the provisioner to look now rather than at its next progress
     * poll. In the spool directory, the one place of the state directory restore_command can write.
     */
    public Path restoreArchiveEnd() {
        return restoreSpool().resolve("archive-end");
    }

    public Path logs() {
        return home.resolve("logs");
    }

    public Path serverLog(String instance) {
        return logs().resolve(instance + ".log");
    }

    /** Output of the PostgreSQL tools pgha ran (initdb, pg_basebackup, pg_rewind, ...). */
    public Path commandLog() {
        return logs().resolve("commands.log");
    }

    /** Generated credentials and the control token, owner-only. */
    public Path secretsDir() {
        return home.resolve("secrets");
    }

    /** Generated credentials, one owner-only file each. */
    public Path secret(String name) {
        return secretsDir().resolve(name + ".json");
    }

    /** The token the services' control APIs demand (see {@link ControlToken}). */
    public Path controlToken() {
        return secretsDir().resolve("control-token");
    }

    /**
     * The curl header file that carries {@code cluster}'s WAL token (see {@link WalToken}), in a
     * directory of its own that the PostgreSQL OS user owns: archive_command and restore_command
     * run as that user and must read it, and {@link #secretsDir()} is closed to it.
     */
    public Path walToken(String cluster) {
        return home.resolve("wal-auth").resolve(cluster + ".header");
    }

    public Path lease(String name) {
        return home.resolve("leases").resolve(name + ".json");
    }

    public int portBase() {
        return portBase;
    }

    /** The router's read/write-split listener. */
    public int routerPort() {
        return portBase;
    }

    /** The router's read-write listener: everything to the current primary. */
    public int routerReadWritePort() {
        return portBase + 1;
    }

    /** Instance {@code serial} (1, 2, ...) listens on base+10+serial. */
    public int instancePort(int serial) {
        return portBase + 10 + serial;
    }

    public int httpPort(Service service) {
        return portBase + 40 + service.ordinal();
    }
}
