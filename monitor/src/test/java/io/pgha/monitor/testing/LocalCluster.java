package io.pgha.monitor.testing;

import io.pgha.api.ClusterNames;
import io.pgha.api.SynchronousStandbyNames;
import io.pgha.api.v1.cluster.PostgresCluster;
import io.pgha.api.v1.cluster.PostgresClusterStatus;
import io.pgha.api.v1.cluster.ProvisioningStatus;
import io.pgha.api.v1.cluster.ReplicationSpec;
import io.pgha.api.v1.cluster.TopologyStatus;
import io.pgha.local.LocalLayout;
import io.pgha.local.LocalSecrets;
import io.pgha.local.OsUser;
import io.pgha.local.PgBinaries;
import io.pgha.local.PgCtl;
import io.pgha.local.ServerProcesses;
import io.pgha.local.Ports;
import io.pgha.local.store.FileResourceStore;
import io.pgha.local.testing.TempDirectories;
import io.fabric8.kubernetes.api.model.ObjectMeta;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Properties;
import java.util.stream.Collectors;

/**
 * A real local cluster laid out as the provisioner lays it out, for the monitor's tests: a state
 * directory under /tmp, instances {@code pg-1..n} at the layout's ports, pg-1 made by initdb and
 * the others by pg_basebackup through their own slots, standbys with primary_conninfo in
 * postgresql.auto.conf, and the cluster resource with provisioning status and the first
 * currentPrimary in the file store. Close it to stop everything and delete the files.
 */
public final class LocalCluster implements AutoCloseable {
    public static final String NAME = "pg";
    private static final java.sql.Driver DRIVER = new org.postgresql.Driver();

    private final Path home;
    private final LocalLayout layout;
    private final PgCtl pgCtl;
    private final OsUser user;
    private final FileResourceStore store;
    private final LocalSecrets.Credentials superuser;
    private final LocalSecrets.Credentials replication;
    private final int instances;
    private final boolean quorum;

    private LocalCluster(int instances, boolean quorum) throws IOException {
        this.instances = instances;
        this.quorum = quorum;
        home = Files.createTempDirectory(Path.of("/tmp"), "pgha-monitor-test",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
        layout = new LocalLayout(home, Ports.freeRange(LocalLayout.PORT_SPAN));
        user = OsUser.forPostgres();
        pgCtl = new PgCtl(PgBinaries.locate(), user, layout.commandLog());
        store = new FileResourceStore(layout.store());
        LocalSecrets secrets = new LocalSecrets(layout);
        superuser = secrets.getOrCreate(ClusterNames.superuserSecret(NAME), ClusterNames.SUPERUSER, "postgres");
        replication = secrets.getOrCreate(ClusterNames.replicationSecret(NAME), ClusterNames.REPLICATION_USER, "postgres");
        Files.createDirectories(layout.logs());
        user.chown(layout.logs());
        user.createPrivateDirectory(layout.socketDir());
    }

    /** {@code instances} instances; quorum: synchronous_standby_names = ANY 1 (all of them). */
    public static LocalCluster start(int instances, boolean quorum, int failureThreshold, int checkIntervalMillis)
            throws IOException, SQLException {
        LocalCluster c = new LocalCluster(instances, quorum);
        try {
            c.bootstrap(failureThreshold, checkIntervalMillis);
        } catch (IOException | SQLException | RuntimeException e) {
            c.close();
            throw e;
        }
        return c;
    }

    private void bootstrap(int failureThreshold, int checkIntervalMillis) throws IOException, SQLException {
        String primary = instance(1);
        prepare(primary);
        pgCtl.initdb(layout.dataDir(primary), superuser.username(), superuser.password(), "C.UTF-8");
        Files.writeString(layout.dataDir(primary).resolve("postgresql.conf"), sharedConf(), StandardOpenOption.APPEND);
        startInstance(1);
        try (Connection c = connect(1); Statement s = c.createStatement()) {
            s.execute("CREATE ROLE " + ClusterNames.REPLICATION_USER + " LOGIN REPLICATION PASSWORD '"
                    + replication.password() + "'");
        }
        for (int serial = 2; serial <= instances; serial++) {
            String standby = instance(serial);
            prepare(standby);
            try (Connection c = connect(1); Statement s = c.createStatement()) {
                s.execute("SELECT pg_create_physical_replication_slot('" + ClusterNames.replicationSlot(standby) + "')");
            }
            pgCtl.basebackup(conninfo(standby, 1), layout.dataDir(standby), ClusterNames.replicationSlot(standby));
            makeStandby(standby, 1);
            startInstance(serial);
        }
        if (quorum) {
            // only now: with the quorum in place and no standby yet, every commit would wait
            String quorum = SynchronousStandbyNames.quorum(1,
                    java.util.stream.IntStream.rangeClosed(1, instances).mapToObj(LocalCluster::instance).toList());
            for (int serial = 1; serial <= instances; serial++) {
                try (Connection c = connect(serial); Statement s = c.createStatement()) {
                    s.execute("ALTER SYSTEM SET synchronous_standby_names = '" + quorum + "'");
                    s.execute("SELECT pg_reload_conf()");
                }
            }
        }
        PostgresCluster cluster = new PostgresCluster();
        cluster.setMetadata(new ObjectMeta());
        cluster.getMetadata().setName(NAME);
        cluster.getMetadata().setNamespace(LocalLayout.NAMESPACE);
        cluster.getSpec().instances = instances;
        cluster.getSpec().failover.failureThreshold = failureThreshold;
        cluster.getSpec().failover.checkIntervalMillis = checkIntervalMillis;
        if (quorum) {
            cluster.getSpec().replication.synchronous = ReplicationSpec.Synchronous.QUORUM;
            cluster.getSpec().replication.number = 1;
        }
        store.apply(cluster);
        store.updateStatus(PostgresCluster.class, LocalLayout.NAMESPACE, NAME, c -> {
            c.setStatus(new PostgresClusterStatus());
            c.getStatus().provisioning = new ProvisioningStatus();
            for (int serial = 1; serial <= instances; serial++) {
                c.getStatus().provisioning.instances.add(new ProvisioningStatus.Instance(instance(serial), serial,
                        serial == 1 ? ProvisioningStatus.Instance.CREATED_BY_INITDB : ProvisioningStatus.Instance.CREATED_BY_CLONE));
            }
            c.getStatus().topology = new TopologyStatus();
            c.getStatus().topology.currentPrimary = primary;
            c.getStatus().topology.timeline = 1;
            return c;
        });
    }

    private String sharedConf() {
        return "\n# pgha monitor test\nwal_level = replica\nhot_standby = on\nwal_log_hints = on\n"
                + "max_wal_senders = 10\nmax_replication_slots = 10\nwal_keep_size = '64MB'\n"
                + "wal_receiver_status_interval = '1s'\nhot_standby_feedback = on\nfsync = off\n";
    }

    private void prepare(String instance) throws IOException {
        user.createPrivateDirectory(layout.instanceDir(instance));
        writeOwned(layout.passfile(instance), "*:*:*:" + replication.username() + ":" + replication.password() + "\n");
    }

    private String conninfo(String standby, int primarySerial) {
        return "host=127.0.0.1 port=" + layout.instancePort(primarySerial) + " user=" + ClusterNames.REPLICATION_USER
                + " passfile=" + layout.passfile(standby) + " sslmode=prefer";
    }

    /** standby.signal and the primary connection in postgresql.auto.conf, as the provisioner writes them. */
    public void makeStandby(String instance, int primarySerial) throws IOException {
        Path data = layout.dataDir(instance);
        Path auto = data.resolve("postgresql.auto.conf");
        String kept = Files.exists(auto) ? Files.readString(auto).lines()
                .filter(l -> !l.startsWith("primary_conninfo") && !l.startsWith("primary_slot_name"))
                .collect(Collectors.joining("\n", "", "\n")) : "";
        writeOwned(auto, kept + "primary_conninfo = '" + conninfo(instance, primarySerial) + "'\n"
                + "primary_slot_name = '" + ClusterNames.replicationSlot(instance) + "'\n");
        writeOwned(data.resolve("standby.signal"), "");
    }

    public void startInstance(int serial) {
        Map<String, String> settings = new LinkedHashMap<>();
        settings.put("port", Integer.toString(layout.instancePort(serial)));
        settings.put("listen_addresses", "127.0.0.1");
        settings.put("unix_socket_directories", layout.socketDir().toString());
        settings.put("cluster_name", instance(serial));
        pgCtl.start(layout.dataDir(instance(serial)), settings, layout.serverLog(instance(serial)));
    }

    private void writeOwned(Path file, String content) throws IOException {
        Files.writeString(file, content, StandardCharsets.UTF_8);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
        user.chown(file);
    }

    public static String instance(int serial) {
        return ClusterNames.instance(NAME, serial);
    }

    public static int serial(String instance) {
        return ClusterNames.serialOf(NAME, instance).orElseThrow();
    }

    public LocalLayout layout() {
        return layout;
    }

    public FileResourceStore store() {
        return store;
    }

    public PgCtl pgCtl() {
        return pgCtl;
    }

    public int port(String instance) {
        return layout.instancePort(serial(instance));
    }

    public PostgresCluster cluster() {
        return store.get(PostgresCluster.class, LocalLayout.NAMESPACE, NAME).orElseThrow();
    }

    public TopologyStatus topology() {
        PostgresCluster c = cluster();
        return c.getStatus() == null || c.getStatus().topology == null ? new TopologyStatus() : c.getStatus().topology;
    }

    public OptionalLong postmasterPid(String instance) {
        return ServerProcesses.postmaster(layout.dataDir(instance));
    }

    public Connection connect(int serial) throws SQLException {
        return connect(instance(serial));
    }

    public Connection connect(String instance) throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", superuser.username());
        p.setProperty("password", superuser.password());
        p.setProperty("connectTimeout", "2");
        p.setProperty("socketTimeout", "30");
        // the driver directly, not DriverManager: after a Quarkus test in the same JVM, DriverManager
        // refuses drivers registered by another class loader
        Connection c = DRIVER.connect("jdbc:postgresql://127.0.0.1:" + port(instance) + "/postgres", p);
        if (c == null) {
            throw new SQLException("the driver did not accept the URL");
        }
        return c;
    }

    /** The first column of the first row of {@code sql} on {@code instance}. */
    public String query(String instance, String sql) throws SQLException {
        try (Connection c = connect(instance); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            return rs.next() ? rs.getString(1) : null;
        }
    }

    public List<String> names() {
        List<String> names = new ArrayList<>();
        for (int i = 1; i <= instances; i++) {
            names.add(instance(i));
        }
        return names;
    }

    @Override
    public void close() throws IOException {
        for (int i = 1; i <= instances; i++) {
            // a test may leave processes stopped with SIGSTOP: kill, do not ask
            ServerProcesses.kill(layout.dataDir(instance(i)));
        }
        TempDirectories.deleteTree(home);
    }
}
