package io.pgha.provisioner.kubernetes;

import io.pgha.api.ClusterNames;
import io.pgha.api.RouterAuth;
import io.pgha.api.tls.InstanceCertificates;
import io.pgha.api.v1.cluster.PostgresCluster;
import io.pgha.provisioner.tls.CertificateIssuer;
import io.pgha.local.OsUser;
import io.pgha.local.PgBinaries;
import io.pgha.local.PgCtl;
import io.pgha.local.Ports;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Instant;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The instance bootstrap script as the pod runs it, against real PostgreSQL 15 processes on
 * loopback: each "pod" is a data directory, a port, a labels file and the script's environment;
 * PGHA_PRIMARY_PORT plays the -rw service (it points at whichever instance is primary).
 * Ordered: initdb, clone, then a promotion of the standby, the refusal of the former primary to
 * start without a primary, its refusal to start as a second primary, and its pg_rewind rejoin; a
 * primary that cannot prove API access to a stand-in API server ({@link PodApiEndpoint}) stopping
 * itself, and not starting again as primary until the API server confirms its label.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class BootstrapScriptTest {
    private static final Map<String, String> PASSWORDS = Map.of(
            "superuser-password", "su-secret-1", "replication-password", "repl-secret-2", "app-password", "app-secret-3",
            "app-username", "app", "app-database", "app", "router-auth-password", "router-secret-4");

    /** The -rw Service's stand-in: a name, so that the instances' verify-full connections to it can check it. */
    private static final String PRIMARY_HOST = "localhost";
    private static Path root;
    private static Path script;
    private static PgCtl pgCtl;
    private static PodApiEndpoint api;
    private static OsUser user;
    private static final Map<String, Integer> PORTS = new LinkedHashMap<>();
    private static final List<Process> PROCESSES = new ArrayList<>();
    private static final List<Path> LOGS = new ArrayList<>();

    @BeforeAll
    static void setUp() throws Exception {
        root = Files.createTempDirectory(Path.of("/tmp"), "pgha-bootstrap",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
        user = OsUser.forPostgres();
        pgCtl = new PgCtl(PgBinaries.locate(), user, root.resolve("commands.log"));
        PostgresCluster cluster = Clusters.example("db");
        cluster.getSpec().parameters.clear();
        cluster.getSpec().parameters.put("fsync", "off");
        // the test's "pods" share the loopback address, which no default allowed range covers
        cluster.getSpec().network.allowedCidrs = List.of("127.0.0.1/32");
        var cm = ClusterConfigMap.desired(cluster, List.of("pg-1", "pg-2"), "pg-1", new PghaServices("pgha-system", true));
        Path config = root.resolve("config");
        Files.createDirectories(config);
        for (var e : cm.getData().entrySet()) {
            Files.writeString(config.resolve(e.getKey()), e.getValue());
        }
        script = config.resolve(ClusterConfigMap.BOOTSTRAP_SCRIPT);
        Path secrets = root.resolve("secrets");
        Files.createDirectories(secrets);
        for (var e : PASSWORDS.entrySet()) {
            Files.writeString(secrets.resolve(e.getKey()), e.getValue());
        }
        api = new PodApiEndpoint(root.resolve("api"));
        PORTS.put("pg-1", Ports.freePort());
        PORTS.put("pg-2", Ports.freePort());
        // each "pod" gets its Secret's files, with the name the test's -rw stand-in (localhost) is reached by
        CertificateIssuer issuer = new CertificateIssuer(new SecureRandom());
        CertificateIssuer.Issued ca = issuer.authority("db", Instant.now(), InstanceCertificates.CA_VALIDITY);
        for (String instance : PORTS.keySet()) {
            Files.createDirectories(root.resolve(instance).resolve("run"));
            label(instance, "standby");
            CertificateIssuer.Issued cert = issuer.server(ca, List.of(instance, PRIMARY_HOST), Instant.now(), InstanceCertificates.SERVER_VALIDITY);
            Path tls = Files.createDirectories(root.resolve(instance).resolve("tls"));
            Files.writeString(tls.resolve(InstanceCertificates.CERT), cert.certificatePem());
            Files.writeString(tls.resolve(InstanceCertificates.KEY), cert.keyPem());
            Files.writeString(tls.resolve(InstanceCertificates.CA_CERT), ca.certificatePem());
        }
        chownTree(root);
    }

    @AfterAll
    static void tearDown() throws IOException {
        for (String instance : PORTS.keySet()) {
            pgCtl.stop(data(instance), PgCtl.StopMode.IMMEDIATE);
        }
        PROCESSES.forEach(Process::destroyForcibly);
        if (api != null) {
            api.close();
        }
        if (System.getenv("PGHA_KEEP_TEST_FILES") != null) {
            return;
        }
        try (Stream<Path> files = Files.walk(root)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    @Test
    @Order(10)
    void designatedFirstPrimaryRunsInitdbWithChecksumsRolesAndTheAppDatabase() throws Exception {
        label("pg-1", "primary");
        start("pg-1", "pg-1", Map.of());
        awaitAccepting("pg-1");
        try (Connection c = connect("pg-1", "app", "app", "app-secret-3")) {
            assertEquals("app", value(c, "SELECT current_user"));
            assertEquals("on", value(c, "SHOW data_checksums"));
            assertEquals("on", value(c, "SHOW wal_log_hints"));
            assertEquals("pg-1", value(c, "SHOW cluster_name"));
        }
        try (Connection c = superuser("pg-1")) {
            assertEquals("t", value(c, "SELECT rolreplication FROM pg_roles WHERE rolname = 'streaming_replica'"));
            assertEquals("f", value(c, "SELECT pg_is_in_recovery()"));
        }
        assertTrue(ready("pg-1"), "a primary that answers is ready");
        assertEquals("SCRAM-SHA-256$", routerLookup("pg-1", "app").substring(0, 14),
                "the router's lookup role gets the app user's SCRAM verifier");
    }

    @Test
    @Order(15)
    void aPrimaryInitialisedWithoutTheRouterLookupFunctionGetsItFromItsLivenessCheck() throws Exception {
        // as on a cluster whose primary was initialised before initdb created it
        try (Connection c = superuser("pg-1")) {
            exec(c, "DROP SCHEMA IF EXISTS pgha CASCADE");
        }
        Files.deleteIfExists(root.resolve("pg-1").resolve("run").resolve("router-auth.md5"));
        assertEquals(0, probe("pg-1", "live", Map.of()));
        assertEquals("SCRAM-SHA-256$", routerLookup("pg-1", "app").substring(0, 14));
        try (Connection c = connect("pg-1", "postgres", ClusterNames.ROUTER_AUTH_USER, PASSWORDS.get("router-auth-password"))) {
            // the lookup role can call the function and read nothing else
            assertThrows(SQLException.class, () -> value(c, "SELECT count(*) FROM pg_authid"));
        }
    }

    @Test
    @Order(20)
    void anotherInstanceClonesFromThePrimaryAndStreamsThroughItsSlot() throws Exception {
        start("pg-2", "pg-1", Map.of());
        awaitStreaming("pg-1", "pg-2");
        try (Connection p = superuser("pg-1")) {
            exec(p, "CREATE TABLE t (v text)");
            exec(p, "INSERT INTO t VALUES ('before failover')");
        }
        await().atMost(Duration.ofSeconds(30)).until(() -> {
            try (Connection s = superuser("pg-2")) {
                return "before failover".equals(value(s, "SELECT string_agg(v, ',') FROM t"));
            } catch (SQLException e) {
                return false;
            }
        });
        assertTrue(Files.exists(data("pg-2").resolve("standby.signal")));
        await().atMost(Duration.ofSeconds(30)).until(() -> ready("pg-2"));
        try (Connection p = superuser("pg-1")) {
            assertEquals("t", value(p, "SELECT bool_and(l.ssl) FROM pg_stat_replication r JOIN pg_stat_ssl l USING (pid)"),
                    "the standby streams over TLS");
        }
        SQLException plain = assertThrows(SQLException.class,
                () -> DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + PORTS.get("pg-1") + "/postgres?sslmode=disable",
                        "postgres", "su-secret-1").close());
        assertTrue(plain.getMessage().contains("no encryption"), "pg_hba has only hostssl lines: " + plain.getMessage());
    }

    @Test
    @Order(30)
    void formerPrimaryNeverStartsWithoutAPrimaryAndNeverAsASecondPrimary() throws Exception {
        // the monitor promotes pg-2; the old primary pg-1 takes one more (diverging) write, then crashes
        try (Connection s = superuser("pg-2")) {
            value(s, "SELECT pg_promote(true, 60)");
            exec(s, "INSERT INTO t VALUES ('on the new primary')");
        }
        try (Connection p = superuser("pg-1")) {
            exec(p, "INSERT INTO t VALUES ('lost on the old primary')");
            exec(p, "CHECKPOINT");
        }
        pgCtl.stop(data("pg-1"), PgCtl.StopMode.IMMEDIATE);
        assertFalse(Files.exists(data("pg-1").resolve("postmaster.pid")));

        // labelled standby and no primary answers: it waits, then gives up without starting
        label("pg-1", "standby");
        Process waiting = start("pg-1", null, Map.of("PGHA_WAIT_SECONDS", "4"));
        assertTrue(waiting.waitFor(60, java.util.concurrent.TimeUnit.SECONDS));
        assertNotEquals(0, waiting.exitValue());
        assertFalse(Files.exists(data("pg-1").resolve("postmaster.pid")), "a former primary must not start alone");
        String output = Files.readString(LOGS.get(LOGS.size() - 1), StandardCharsets.UTF_8);
        assertTrue(output.contains("no primary answered"), output);

        // still labelled primary (the operator has not caught up), but pg-2 answers as primary: it rejoins instead
        label("pg-1", "primary");
        start("pg-1", "pg-2", Map.of());
        awaitStreaming("pg-2", "pg-1");
        try (Connection s = superuser("pg-1")) {
            assertEquals("t", value(s, "SELECT pg_is_in_recovery()"));
            await().atMost(Duration.ofSeconds(30)).until(() -> "before failover,on the new primary".equals(
                    value(s, "SELECT string_agg(v, ',' ORDER BY v) FROM t")));
        }
        assertEquals("pg_rewind", Files.readString(data("pg-1").resolve("pgha-rejoined-by")).strip());
        try (Connection p = superuser("pg-2")) {
            assertEquals("f", value(p, "SELECT pg_is_in_recovery()"));
            assertEquals("1", value(p, "SELECT count(*) FROM pg_stat_replication"));
        }
    }

    @Test
    @Order(40)
    void aPrimaryThatCannotProveApiAccessStopsTakingWritesAfterTheDeadline() throws Exception {
        // a check that fails counts isolation from its own start, in whole seconds, and waits up to the API
        // timeout (plus bash's and openssl's start): with a 2 s deadline the very first check of a silent API
        // reached it on a loaded machine (a CI run failed "isolation just began: still alive"); 3 s leaves a margin
        Map<String, String> fast = Map.of("PGHA_ISOLATION_SECONDS", "3", "PGHA_API_TIMEOUT_SECONDS", "1");
        Map<String, String> answering = with(api.env(api.port()), fast);
        Path isolatedSince = root.resolve("pg-2").resolve("run").resolve("isolated-since");
        // (a) the API server answers the pod's own token with its pod: alive, no isolation counted
        int reads = api.authorizedReads();
        assertEquals(0, probe("pg-2", "live", answering));
        assertEquals(reads + 1, api.authorizedReads(), "the check read its pod with the service-account token");
        assertFalse(Files.exists(isolatedSince));

        // a server whose certificate the pod's CA did not sign is never sent the token, and proves nothing
        int seen = api.requests();
        assertEquals(0, probe("pg-2", "live", with(answering, Map.of("PGHA_API_CA_FILE", api.untrustedCa().toString()))));
        assertEquals(seen, api.requests(), "no request reached a server the CA does not vouch for");
        assertTrue(Files.exists(isolatedSince));
        assertEquals(0, probe("pg-2", "live", answering));
        assertFalse(Files.exists(isolatedSince));

        // (b) reachable over TCP and TLS, but refusing the token: that proves nothing, isolation is counted
        api.refuseTokens(true);
        assertEquals(0, probe("pg-2", "live", answering), "isolation just began: still alive");
        assertTrue(Files.exists(isolatedSince), "a refused request counts as isolation");
        api.refuseTokens(false);
        assertEquals(0, probe("pg-2", "live", answering));
        assertFalse(Files.exists(isolatedSince), "access proven again: the clock starts over");

        // a standby is never failed for isolation: only a primary can take writes
        Map<String, String> silent = with(api.env(api.silentPort()), fast);
        assertEquals(0, probe("pg-1", "live", silent));

        // (b) an API address that accepts connections and never answers: once the deadline passed the check
        // fails and the server is stopped, so no client can write to it any more
        assertEquals(0, probe("pg-2", "live", silent), "isolation just began: still alive");
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(500)).until(() -> probe("pg-2", "live", silent) != 0);
        assertFalse(Files.exists(data("pg-2").resolve("postmaster.pid")), "the isolated primary's server is stopped");
        assertThrows(SQLException.class, () -> superuser("pg-2").close());

        // (c) the container restarts with a primary label in its downward-API file, still cut off: it does not start
        label("pg-2", "primary");
        Process waiting = start("pg-2", null, with(silent, Map.of("PGHA_WAIT_SECONDS", "4")));
        assertTrue(waiting.waitFor(60, java.util.concurrent.TimeUnit.SECONDS));
        assertNotEquals(0, waiting.exitValue());
        assertFalse(Files.exists(data("pg-2").resolve("postmaster.pid")), "an unconfirmed primary must not start");
        String output = Files.readString(LOGS.get(LOGS.size() - 1), StandardCharsets.UTF_8);
        assertTrue(output.contains("the API server did not confirm it"), output);

        // the API server says standby (the monitor failed over meanwhile): it does not start as primary either,
        // it waits for the primary to rejoin it
        api.role("pg-2", "standby");
        Process rejoining = start("pg-2", null, Map.of("PGHA_WAIT_SECONDS", "4"));
        assertTrue(rejoining.waitFor(60, java.util.concurrent.TimeUnit.SECONDS));
        assertNotEquals(0, rejoining.exitValue());
        assertFalse(Files.exists(data("pg-2").resolve("postmaster.pid")));
        output = Files.readString(LOGS.get(LOGS.size() - 1), StandardCharsets.UTF_8);
        assertTrue(output.contains("the API server says role 'standby'"), output);

        // the API server says primary, the labels file lags behind: the API server decides, it starts as the primary
        api.role("pg-2", "primary");
        labelsFile("pg-2", "standby");
        start("pg-2", "pg-2", Map.of());
        awaitAccepting("pg-2");
        try (Connection p = superuser("pg-2")) {
            assertEquals("f", value(p, "SELECT pg_is_in_recovery()"));
        }
        awaitStreaming("pg-2", "pg-1");
    }

    @Test
    @Order(50)
    void formerPrimaryWhoseRewindFailsIsClonedAfresh() throws Exception {
        // split brain on purpose: pg-1 is promoted behind the monitor's back and takes a write, then crashes
        try (Connection s = superuser("pg-1")) {
            value(s, "SELECT pg_promote(true, 60)");
            exec(s, "INSERT INTO t VALUES ('split brain')");
        }
        pgCtl.stop(data("pg-1"), PgCtl.StopMode.IMMEDIATE);
        // and it lost the WAL a rewind would need
        try (Stream<Path> wal = Files.list(data("pg-1").resolve("pg_wal"))) {
            for (Path f : wal.filter(f -> f.getFileName().toString().matches("[0-9A-F]{24}")).toList()) {
                Files.delete(f);
            }
        }
        label("pg-1", "standby");
        start("pg-1", "pg-2", Map.of());
        awaitStreaming("pg-2", "pg-1");
        assertEquals("reclone", Files.readString(data("pg-1").resolve("pgha-rejoined-by")).strip());
        try (Connection s = superuser("pg-1")) {
            assertEquals("t", value(s, "SELECT pg_is_in_recovery()"));
            assertEquals("before failover,on the new primary", value(s, "SELECT string_agg(v, ',' ORDER BY v) FROM t"));
        }
    }

    private static Map<String, String> with(Map<String, String> a, Map<String, String> b) {
        Map<String, String> env = new LinkedHashMap<>(a);
        env.putAll(b);
        return env;
    }

    private static Process start(String instance, String primary, Map<String, String> extra) throws IOException {
        Map<String, String> env = new LinkedHashMap<>();
        env.put("PGDATA", data(instance).toString());
        env.put("PGHA_INSTANCE", instance);
        env.put("PGHA_PORT", PORTS.get(instance).toString());
        env.put("PGHA_PRIMARY_HOST", PRIMARY_HOST);
        // no primary: a port nobody listens on
        env.put("PGHA_PRIMARY_PORT", primary == null ? Integer.toString(Ports.freePort()) : PORTS.get(primary).toString());
        env.put("PGHA_CONFIG_DIR", root.resolve("config").toString());
        env.put("PGHA_SECRETS_DIR", root.resolve("secrets").toString());
        env.put("PGHA_LABELS_FILE", root.resolve(instance).resolve("labels").toString());
        env.put("PGHA_RUN_DIR", root.resolve(instance).resolve("run").toString());
        env.put("PGHA_TLS_DIR", root.resolve(instance).resolve("tls").toString());
        env.put("PGHA_LISTEN", "127.0.0.1");
        env.put("PGHA_PG_BIN", PgBinaries.locate().dir().toString());
        // as in a pod: the API server answers the pod's service-account token
        env.putAll(api.env(api.port()));
        env.putAll(extra);
        List<String> command = new ArrayList<>(List.of("env"));
        env.forEach((k, v) -> command.add(k + "=" + v));
        command.addAll(List.of("/bin/bash", script.toString(), "run"));
        Path log = root.resolve(instance).resolve("script-" + PROCESSES.size() + ".log");
        Process p = new ProcessBuilder(user.command(command)).redirectErrorStream(true)
                .redirectOutput(log.toFile()).start();
        PROCESSES.add(p);
        LOGS.add(log);
        return p;
    }

    private static boolean ready(String instance) throws IOException, InterruptedException {
        return probe(instance, "ready", Map.of()) == 0;
    }

    private static int probe(String instance, String mode, Map<String, String> extra) throws IOException, InterruptedException {
        Map<String, String> env = new LinkedHashMap<>(Map.of("PGDATA", data(instance).toString(), "PGHA_INSTANCE", instance,
                "PGHA_PORT", PORTS.get(instance).toString(), "PGHA_PRIMARY_HOST", PRIMARY_HOST,
                "PGHA_RUN_DIR", root.resolve(instance).resolve("run").toString(),
                "PGHA_TLS_DIR", root.resolve(instance).resolve("tls").toString(),
                "PGHA_CONFIG_DIR", root.resolve("config").toString(), "PGHA_SECRETS_DIR", root.resolve("secrets").toString(),
                "PGHA_PG_BIN", PgBinaries.locate().dir().toString()));
        env.putAll(api.env(api.port()));
        env.putAll(extra);
        List<String> command = new ArrayList<>(List.of("env"));
        env.forEach((k, v) -> command.add(k + "=" + v));
        command.addAll(List.of("/bin/bash", script.toString(), mode));
        Process p = new ProcessBuilder(user.command(command)).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        return p.waitFor();
    }

    private static void awaitAccepting(String instance) {
        await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(300)).ignoreExceptions()
                .until(() -> {
                    try (Connection c = superuser(instance)) {
                        return c.isValid(2);
                    }
                });
    }

    private static void awaitStreaming(String primary, String standby) {
        await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(500)).ignoreExceptions()
                .until(() -> {
                    // the standby's own WAL receiver (a clone's WAL stream uses the same slot and name)
                    try (Connection s = superuser(standby)) {
                        if (!"streaming".equals(value(s, "SELECT status FROM pg_stat_wal_receiver"))) {
                            return false;
                        }
                    }
                    try (Connection c = superuser(primary)) {
                        return "t".equals(value(c, "SELECT EXISTS (SELECT 1 FROM pg_stat_replication r JOIN pg_replication_slots s "
                                + "ON s.active_pid = r.pid WHERE r.application_name = '" + standby + "' AND r.state = 'streaming' "
                                + "AND s.slot_name = 'pgha_" + standby.replace('-', '_') + "')"));
                    }
                });
    }

    /** The role label, in the pod's downward-API file and as the API server reports it. */
    private static void label(String instance, String role) throws IOException {
        api.role(instance, role);
        labelsFile(instance, role);
    }

    /** The role label in the pod's downward-API file only, which the kubelet updates late or, cut off, never. */
    private static void labelsFile(String instance, String role) throws IOException {
        Path file = root.resolve(instance).resolve("labels");
        Files.createDirectories(file.getParent());
        Files.writeString(file, "pgha.io/cluster=\"pg\"\npgha.io/instance=\"" + instance + "\"\npgha.io/role=\"" + role + "\"\n");
    }

    private static Path data(String instance) {
        return root.resolve(instance).resolve("pgdata");
    }

    private static Connection superuser(String instance) throws SQLException {
        return connect(instance, "postgres", "postgres", "su-secret-1");
    }

    private static Connection connect(String instance, String db, String role, String password) throws SQLException {
        return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + PORTS.get(instance) + "/" + db, role, password);
    }

    /** What the router does at a client's login: the verifier through the lookup function, as the lookup role. */
    private static String routerLookup(String instance, String role) throws SQLException {
        try (Connection c = connect(instance, RouterAuth.DATABASE, ClusterNames.ROUTER_AUTH_USER, PASSWORDS.get("router-auth-password"));
             PreparedStatement s = c.prepareStatement(RouterAuth.QUERY.replace("$1", "?"))) {
            s.setString(1, role);
            try (ResultSet rs = s.executeQuery()) {
                assertTrue(rs.next(), "no row for " + role);
                return rs.getString(1);
            }
        }
    }

    private static String value(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getString(1);
        }
    }

    private static void exec(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute(sql);
        }
    }

    private static void chownTree(Path dir) throws IOException {
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path p : files.toList()) {
                user.chown(p);
            }
        }
    }
}
