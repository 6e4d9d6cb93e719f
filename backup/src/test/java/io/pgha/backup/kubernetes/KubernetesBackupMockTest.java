package io.pgha.backup.kubernetes;

import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.Watch;
import io.fabric8.kubernetes.client.Watcher;
import io.fabric8.kubernetes.client.WatcherException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.micrometer.core.instrument.MeterRegistry;
import io.pgha.api.ClusterNames;
import io.pgha.api.Labels;
import io.pgha.api.tls.InstanceCertificates;
import io.pgha.api.v1.backup.PostgresBackup;
import io.pgha.api.v1.backup.PostgresBackupStatus;
import io.pgha.api.v1.cluster.BackupSpec;
import io.pgha.api.v1.cluster.BackupStatus;
import io.pgha.api.v1.Condition;
import io.pgha.api.v1.ConditionTypes;
import io.pgha.api.v1.Conditions;
import io.pgha.api.v1.cluster.PostgresCluster;
import io.pgha.api.v1.cluster.PostgresClusterStatus;
import io.pgha.api.v1.cluster.TopologyStatus;
import io.pgha.backup.core.BackupInfo;
import io.pgha.backup.core.Compression;
import io.pgha.backup.core.RepositoryLayout;
import io.pgha.backup.core.WalFileName;
import io.pgha.backup.repository.FilesystemRepository;
import io.pgha.local.OsUser;
import io.pgha.local.testing.TempDirectories;
import io.pgha.local.testing.TestPostgres;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.quarkus.test.kubernetes.client.WithKubernetesTestServer;
import io.restassured.RestAssured;
import jakarta.inject.Inject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The backup service with {@code pgha.platform=kubernetes} against the fabric8 mock API server
 * (CRUD mode), with one real PostgreSQL 15 behind the instance pods: it serves TLS with a
 * certificate of a test CA (openssl), as pgha's instances on Kubernetes do, and its
 * archive_command is the one instances run on Kubernetes (wal-push.sh with http-client.sh: HTTPS
 * through openssl s_client), pushing to this service's HTTPS port, whose certificate another test
 * CA signed for {@code localhost}, as the provisioner's does for the backup Service's names, with
 * the cluster's WAL token from a file, as the instance pods have both mounted. The test plays the provisioner (cluster, secrets, pods)
 * and the monitor (status.topology). The adapter's periodic round is turned off (once an hour);
 * the test runs rounds itself, at the times it chooses for the schedules.
 */
@QuarkusTest
@TestProfile(KubernetesBackupMockTest.Profile.class)
@WithKubernetesTestServer(crud = true)
class KubernetesBackupMockTest {
    private static final String NS = "db";
    private static final Path REPOSITORY = TempDirectories.deletedAtExit("pgha-k8s-repo");
    private static TestPostgres pg;
    private static Path caFile;
    private static Path walPush;
    /** The WAL token of every cluster the test makes, in the Secret the provisioner would make, and as the instance's file. */
    private static final String TOKEN = "k3Jx9PqWm2Zt7RvYb4NcHd8LsEf6GaUu";
    private static Path tokenFile;
    /** The service's HTTPS port, its certificate and the CAs: TLS as the backup Deployment serves it on Kubernetes. */
    private static final ServiceTls TLS = ServiceTls.make();

    public static class Profile implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("pgha.platform", "kubernetes",
                    "pgha.backup.kubernetes.round", "1h",
                    // restore drills run PostgreSQL as its OS user, which must enter the drills' directory under it
                    "pgha.backup.home", traversable(TempDirectories.deletedAtExit("pgha-k8s-home")).toString(),
                    "pgha.backup.repository-root", TempDirectories.deletedAtExit("pgha-k8s-default-repo").toString(),
                    "pgha.backup.wal-timeout", "60s",
                    // a schedule trigger's call answers 202 at once while its backup runs: the caller's loop is exercised
                    "pgha.backup.trigger.wait", "0s",
                    // HTTPS beside HTTP (the Deployment serves HTTPS alone; RestAssured's calls here stay plain)
                    "quarkus.http.ssl.certificate.files", TLS.certificate.toString(),
                    "quarkus.http.ssl.certificate.key-files", TLS.key.toString(),
                    "quarkus.http.test-ssl-port", Integer.toString(TLS.port),
                    // the mock server logs every request at INFO
                    "quarkus.log.category.\"io.fabric8.mockwebserver\".level", "WARN");
        }
    }

    /**
     * The backup service's TLS material, made with openssl: a CA, a server certificate it signs for
     * {@code localhost} (ECDSA P-256 with serverAuth, as the provisioner's issuer makes them), and a
     * second CA that signed nothing this service serves. The directory is readable by the postgres
     * user, whose archive_command verifies the service against {@link #ca}.
     */
    record ServiceTls(int port, Path ca, Path otherCa, Path certificate, Path key) {
        static ServiceTls make() {
            try {
                Path dir = TempDirectories.deletedAtExit("pgha-backup-tls");
                Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
                for (String ca : List.of("ca", "other-ca")) {
                    openssl(dir, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                            "-keyout", ca + ".key", "-out", ca + ".crt", "-days", "2", "-subj", "/CN=pgha backup test " + ca);
                }
                openssl(dir, "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                        "-keyout", "tls.key", "-out", "tls.csr", "-subj", "/CN=localhost");
                Files.writeString(dir.resolve("ext"), "subjectAltName=DNS:localhost\nextendedKeyUsage=serverAuth\n");
                openssl(dir, "x509", "-req", "-in", "tls.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
                        "-days", "2", "-extfile", "ext", "-out", "tls.crt");
                for (String f : List.of("ca.crt", "other-ca.crt")) {
                    Files.setPosixFilePermissions(dir.resolve(f), PosixFilePermissions.fromString("rw-r--r--"));
                }
                return new ServiceTls(io.pgha.local.Ports.freePort(), dir.resolve("ca.crt"), dir.resolve("other-ca.crt"),
                        dir.resolve("tls.crt"), dir.resolve("tls.key"));
            } catch (Exception e) {
                throw new IllegalStateException("cannot make the backup service's test certificates: " + e.getMessage(), e);
            }
        }

        /** The service's URL for {@code path} over HTTPS under the name its certificate carries. */
        String url(String path) {
            return "https://localhost:" + port + path;
        }
    }

    @Inject
    KubernetesClient client;

    @Inject
    KubernetesBackupService service;

    @Inject
    MeterRegistry registry;

    @Inject
    io.pgha.backup.service.BackupVerifier verifier;

    @Inject
    io.pgha.backup.service.BackupMetrics metrics;

    @Inject
    io.pgha.backup.service.ArchiveWatch archiveWatch;

    @AfterAll
    static void stopPostgres() throws IOException {
        if (pg != null) {
            pg.close();
        }
    }

    private static Path traversable(Path dir) {
        try {
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The instance, its CRDs, cluster, secrets and pod, made once for the class. */
    private synchronized void instance() throws Exception {
        if (pg != null) {
            return;
        }
        for (String crd : List.of("postgresclusters.pgha.io-v1.yml", "postgresbackups.pgha.io-v1.yml")) {
            client.resource(client.getKubernetesSerialization().unmarshal(Files.readString(repo().resolve("kustomize/base/crds/" + crd)),
                    CustomResourceDefinition.class)).create();
        }
        // what the provisioner sets on Kubernetes (PostgresConfig.kubernetesArchiveCommand, with the ConfigMap's
        // wal-push.sh; the provisioner is not a dependency of this module): bash and openssl, no curl
        Path script = TempDirectories.deletedAtExit("pgha-wal-push").resolve("wal-push.sh");
        walPush = script;
        Files.setPosixFilePermissions(script.getParent(), PosixFilePermissions.fromString("rwxr-xr-x"));
        shipped("wal-push.sh", script);
        // the token as kubelet mounts it from the Secret: read-only, readable by the postgres user alone
        tokenFile = tokenFile(script.getParent(), TOKEN);
        String archiveCommand = "timeout 60 bash " + script + " %p " + TLS.url("/wal/pg/%f") + " " + tokenFile + " " + TLS.ca;
        pg = TestPostgres.start(Map.of("archive_mode", "on", "archive_command", archiveCommand));
        caFile = serveCertificate(pg);
        try (Connection c = connect(pg); Statement st = c.createStatement()) {
            st.execute("CREATE TABLE t AS SELECT g AS id, md5(g::text) AS v FROM generate_series(1, 20000) g");
        }
        cluster(NS, "pg", filesystem(REPOSITORY), true, pg.superuserPassword());
    }

    /**
     * A script as the provisioner ships it (ClusterConfigMap.withHttpClient): http-client.sh, then the
     * script, from the provisioner's resources, written to {@code to}, readable by every user.
     */
    private static void shipped(String script, Path to) throws IOException {
        Path resources = repo().resolve("provisioner/src/main/resources/io/pgha/provisioner/kubernetes");
        Files.writeString(to, Files.readString(resources.resolve("http-client.sh")) + "\n" + Files.readString(resources.resolve(script)));
        Files.setPosixFilePermissions(to, PosixFilePermissions.fromString("rw-r--r--"));
    }

    private static Path tokenFile(Path dir, String token) throws IOException {
        Path file = Files.createTempFile(dir, "wal-push-token", "");
        Files.writeString(file, token);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("r--------"));
        OsUser.forPostgres().chown(file);
        return file;
    }

    /**
     * A superuser connection through the driver itself: DriverManager would bind the driver to this
     * application's class loader, and the module's next Quarkus application (another profile) could
     * no longer find it.
     */
    private static Connection connect(TestPostgres pg) throws java.sql.SQLException {
        java.util.Properties p = new java.util.Properties();
        p.setProperty("user", TestPostgres.SUPERUSER);
        p.setProperty("password", pg.superuserPassword());
        return new org.postgresql.Driver().connect(pg.jdbcUrl("postgres"), p);
    }

    private static Path repo() {
        Path dir = Path.of("").toAbsolutePath();
        while (!Files.exists(dir.resolve("kustomize"))) {
            dir = dir.getParent();
        }
        return dir;
    }

    /** A CA and a server certificate (ECDSA P-256, as the provisioner's), served by {@code pg} with ssl = on. */
    private static Path serveCertificate(TestPostgres pg) throws Exception {
        Path dir = TempDirectories.deletedAtExit("pgha-k8s-tls");
        Path ca = dir.resolve(InstanceCertificates.CA_CERT);
        openssl(dir, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                "-keyout", "ca.key", "-out", ca.toString(), "-days", "2", "-subj", "/CN=pgha-test-ca");
        openssl(dir, "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=pg-1");
        openssl(dir, "x509", "-req", "-in", "server.csr", "-CA", ca.toString(), "-CAkey", "ca.key", "-CAcreateserial",
                "-days", "2", "-out", "server.crt");
        OsUser postgres = OsUser.forPostgres();
        for (String f : List.of("server.crt", "server.key")) {
            Path to = pg.dataDir().resolve(f);
            Files.copy(dir.resolve(f), to);
            Files.setPosixFilePermissions(to, PosixFilePermissions.fromString("rw-------"));
            postgres.chown(to);
        }
        try (Connection c = connect(pg); Statement st = c.createStatement()) {
            st.execute("ALTER SYSTEM SET ssl = on");
            st.execute("SELECT pg_reload_conf()");
        }
        return ca;
    }

    private static void openssl(Path dir, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of("openssl"));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), "openssl " + String.join(" ", args) + ": " + out);
    }

    /**
     * Cluster {@code name} in {@code ns} as the provisioner and the monitor leave it: spec.backup
     * into {@code backup}, instance {@code name}-1 primary and healthy; with {@code pod}, its pod at
     * the test instance and the superuser, replication (with {@code replicationPassword}) and CA secrets.
     * Every cluster gets its WAL token Secret.
     */
    private void cluster(String ns, String name, BackupSpec backup, boolean pod, String replicationPassword) throws IOException {
        PostgresCluster c = new PostgresCluster();
        c.getMetadata().setName(name);
        c.getMetadata().setNamespace(ns);
        c.getSpec().backup = backup;
        client.resource(c).create();
        String primary = ClusterNames.instance(name, 1);
        PostgresClusterStatus status = new PostgresClusterStatus();
        status.topology = new TopologyStatus();
        status.topology.currentPrimary = primary;
        status.topology.timeline = 1;
        TopologyStatus.Instance i = new TopologyStatus.Instance();
        i.name = primary;
        i.role = TopologyStatus.ROLE_PRIMARY;
        i.healthy = true;
        i.timeline = 1;
        status.topology.instances.add(i);
        client.resources(PostgresCluster.class).inNamespace(ns).withName(name).subresource("status")
                .patch(PatchContext.of(PatchType.JSON_MERGE), StatusWrites.JSON.asJson(Map.of("status", status)));
        secret(ns, ClusterNames.walPushSecret(name), Map.of(ClusterNames.WAL_PUSH_TOKEN_KEY, TOKEN));
        if (!pod) {
            return;
        }
        secret(ns, ClusterNames.superuserSecret(name), Map.of("username", TestPostgres.SUPERUSER, "password", pg.superuserPassword()));
        // the test instance's pg_hba.conf (initdb's) lets every role replicate
        secret(ns, ClusterNames.replicationSecret(name), Map.of("username", TestPostgres.SUPERUSER, "password", replicationPassword));
        secret(ns, ClusterNames.caCertificateSecret(name), Map.of(InstanceCertificates.CA_CERT, Files.readString(caFile)));
        client.resource(new PodBuilder().withNewMetadata().withName(primary).withNamespace(ns)
                .withLabels(Map.of(Labels.CLUSTER, name, Labels.COMPONENT, Labels.COMPONENT_INSTANCE, Labels.INSTANCE, primary,
                        Labels.ROLE, Labels.ROLE_PRIMARY)).endMetadata()
                .withNewSpec().addNewContainer().withName(ClusterNames.INSTANCE_CONTAINER).withImage("postgres:15")
                .addNewPort().withName(ClusterNames.INSTANCE_PORT_NAME).withContainerPort(pg.port()).endPort().endContainer().endSpec()
                .withNewStatus().withPodIP("127.0.0.1").addNewCondition().withType("Ready").withStatus("True").endCondition().endStatus()
                .build()).create();
    }

    private void secret(String ns, String name, Map<String, String> data) {
        Map<String, String> encoded = new java.util.LinkedHashMap<>();
        data.forEach((k, v) -> encoded.put(k, Base64.getEncoder().encodeToString(v.getBytes(StandardCharsets.UTF_8))));
        client.resource(new SecretBuilder().withNewMetadata().withName(name).withNamespace(ns).endMetadata().withData(encoded).build())
                .create();
    }

    /**
     * spec.backup into a directory, scheduled daily at an hour twelve hours from now (spec.backup
     * has a daily schedule by default): the schedule test's rounds, minutes ahead, start nothing here.
     */
    private static BackupSpec filesystem(Path root) {
        BackupSpec b = new BackupSpec();
        b.schedule = "0 " + (Instant.now().atZone(ZoneOffset.UTC).getHour() + 12) % 24 + " * * *";
        b.repository = new BackupSpec.Repository();
        b.repository.filesystem = new BackupSpec.Filesystem();
        b.repository.filesystem.path = root.toString();
        return b;
    }

    private void backup(String ns, String name, String cluster) {
        PostgresBackup b = new PostgresBackup();
        b.getMetadata().setName(name);
        b.getMetadata().setNamespace(ns);
        b.getSpec().cluster = cluster;
        client.resource(b).create();
    }

    private PostgresBackupStatus status(String ns, String name) {
        PostgresBackup b = client.resources(PostgresBackup.class).inNamespace(ns).withName(name).get();
        return b == null || b.getStatus() == null ? new PostgresBackupStatus() : b.getStatus();
    }

    private PostgresBackupStatus awaitPhase(String ns, String name, String phase) {
        await().atMost(90, TimeUnit.SECONDS).until(() -> phase.equals(status(ns, name).phase)
                || PostgresBackupStatus.PHASE_FAILED.equals(status(ns, name).phase));
        PostgresBackupStatus s = status(ns, name);
        assertEquals(phase, s.phase, "backup " + name + ": " + s.error);
        return s;
    }

    private KubernetesBackups adapter() {
        return service.adapter().orElseThrow();
    }

    /**
     * On Kubernetes the instances' pg_wal is in their pods, not on this service's disk: the service
     * asks each instance of the topology over SQL how many segments wait in its archive_status,
     * and the most is the cluster's pending-segments gauge (it stayed 0 there before).
     */
    @Test
    void theSegmentsWaitingInTheInstancePodsAreCountedThroughSql() throws Exception {
        instance();
        Path status = pg.dataDir().resolve("pg_wal").resolve("archive_status");
        // far beyond the instance's WAL, so the archiver reaches them only after every real segment
        List<Path> waiting = List.of(status.resolve("0000000100000000000000F0.ready"), status.resolve("0000000100000000000000F1.ready"),
                status.resolve("0000000100000000000000F2.ready"));
        try {
            for (Path f : waiting) {
                Files.createFile(f);
            }
            adapter().backlog().pass();
            assertTrue(gauge("pgha.wal.archive.pending.segments") >= waiting.size(),
                    "pending segments: " + gauge("pgha.wal.archive.pending.segments"));
            // the local count (data directories on this service's disk) does not run here, so it cannot reset the value
            archiveWatch.pass();
            assertTrue(gauge("pgha.wal.archive.pending.segments") >= waiting.size(),
                    "pending segments after the archive watch's pass: " + gauge("pgha.wal.archive.pending.segments"));
        } finally {
            for (Path f : waiting) {
                Files.deleteIfExists(f);
            }
        }
    }

    @Test
    void aBackupRunsWithProgressToCompletedWithItsLsnsAndSizeAndASecondOneMeanwhileIsRefused() throws Exception {
        instance();
        List<PostgresBackupStatus> seen = new CopyOnWriteArrayList<>();
        try (Watch watch = client.resources(PostgresBackup.class).inNamespace(NS).withName("pg-first").watch(new Watcher<>() {
            @Override
            public void eventReceived(Action action, PostgresBackup b) {
                if (b.getStatus() != null) {
                    seen.add(b.getStatus());
                }
            }

            @Override
            public void onClose(WatcherException cause) {
            }
        })) {
            Instant before = Instant.now();
            backup(NS, "pg-first", "pg");
            backup(NS, "pg-second", "pg");

            PostgresBackupStatus second = awaitPhase(NS, "pg-second", PostgresBackupStatus.PHASE_FAILED);
            assertTrue(second.error.contains("already running: pg-first (one backup per cluster at a time)"), second.error);

            PostgresBackupStatus done = awaitPhase(NS, "pg-first", PostgresBackupStatus.PHASE_COMPLETED);
            assertEquals("pg-1", done.instance);
            assertEquals(1, done.timeline);
            assertNotNull(done.beginLsn);
            assertNotNull(done.endLsn);
            assertTrue(io.pgha.api.postgres.Lsn.parse(done.beginLsn).compareTo(io.pgha.api.postgres.Lsn.parse(done.endLsn)) <= 0,
                    done.beginLsn + " .. " + done.endLsn);
            assertTrue(done.size > 0, "bytes stored: " + done.size);
            assertTrue(!Instant.parse(done.startedAt).isBefore(before.minusSeconds(1)), done.startedAt);
            assertTrue(!Instant.parse(done.finishedAt).isBefore(Instant.parse(done.startedAt)), done.finishedAt);
            assertTrue(done.location.startsWith(REPOSITORY.toString()), done.location);
            // the order of phases the watch saw: Pending, Running with the size to read, Completed
            await().atMost(10, TimeUnit.SECONDS).until(() -> seen.stream().anyMatch(s -> PostgresBackupStatus.PHASE_COMPLETED.equals(s.phase)));
            List<String> phases = seen.stream().map(s -> s.phase).distinct().toList();
            assertEquals(List.of(PostgresBackupStatus.PHASE_PENDING, PostgresBackupStatus.PHASE_RUNNING, PostgresBackupStatus.PHASE_COMPLETED),
                    phases);
            assertTrue(seen.stream().anyMatch(s -> PostgresBackupStatus.PHASE_RUNNING.equals(s.phase) && s.bytesTotal != null
                    && s.bytesTotal > 0 && s.bytesDone != null), "progress while running: " + seen.size() + " statuses");

            // the repository holds the completed backup as a restore reads it
            RepositoryLayout layout = new RepositoryLayout("pg", Compression.ZSTD);
            BackupInfo info = BackupInfo.fromJson("pg-first",
                    new FilesystemRepository(REPOSITORY).get(layout.backupInfoKey("pg-first")).orElseThrow());
            assertEquals(done.endLsn, info.endLsn());

            // the cluster's status.backup, this service's part of the status
            adapter().round(Instant.now());
            BackupStatus b = client.resources(PostgresCluster.class).inNamespace(NS).withName("pg").get().getStatus().backup;
            assertEquals(done.finishedAt, b.lastSuccessfulBackup);
            // other tests' backups of pg may be older (the order of tests is not fixed): recoverable from this one's end at the latest
            assertTrue(!Instant.parse(b.firstRecoverabilityPoint).isAfter(Instant.parse(done.finishedAt)), b.firstRecoverabilityPoint);
            assertNotNull(b.lastArchivedWal);
            assertNotNull(b.lastArchivedTime);
            Condition archiving = Conditions.find(client.resources(PostgresCluster.class).inNamespace(NS).withName("pg").get()
                    .getStatus().conditions, ConditionTypes.CONTINUOUS_ARCHIVING).orElse(null);
            assertNotNull(archiving, "the ContinuousArchiving condition is written on Kubernetes too");
            assertEquals(Condition.TRUE, archiving.status, archiving.message);
            TopologyStatus t = client.resources(PostgresCluster.class).inNamespace(NS).withName("pg").get().getStatus().topology;
            assertEquals("pg-1", t.currentPrimary, "the monitor's part of the status is untouched");
        }
    }

    @Test
    void retentionRemovesExpiredBackupsTheirObjectsAndTheWalOnlyTheyNeeded() throws Exception {
        instance();
        backup(NS, "pg-kept-before", "pg");
        awaitPhase(NS, "pg-kept-before", PostgresBackupStatus.PHASE_COMPLETED);
        try (Connection c = connect(pg); Statement st = c.createStatement()) {
            for (int i = 0; i < 3; i++) {
                st.execute("INSERT INTO t SELECT g, md5(g::text) FROM generate_series(1, 1000) g");
                st.execute("SELECT pg_switch_wal()");
            }
        }
        backup(NS, "pg-kept", "pg");
        PostgresBackupStatus kept = awaitPhase(NS, "pg-kept", PostgresBackupStatus.PHASE_COMPLETED);
        RepositoryLayout layout = new RepositoryLayout("pg", Compression.ZSTD);
        FilesystemRepository repository = new FilesystemRepository(REPOSITORY);
        WalFileName keptBegins = WalFileName.segmentOf(kept.timeline, io.pgha.api.postgres.Lsn.parse(kept.beginLsn), 16L * 1024 * 1024);
        assertTrue(segments(repository, layout).stream().anyMatch(w -> w.compareTo(keptBegins) < 0), "WAL from before pg-kept is archived");

        // one backup (the default minimum) and no window to speak of: everything before pg-kept goes,
        // on Kubernetes as locally
        setRetention("pg", "1s");
        try {
            await().atMost(60, TimeUnit.SECONDS).untilAsserted(() -> {
                adapter().round(Instant.now());
                assertNull(client.resources(PostgresBackup.class).inNamespace(NS).withName("pg-kept-before").get(), "object deleted");
                assertEquals(List.of(), segments(repository, layout).stream().filter(w -> w.compareTo(keptBegins) < 0).toList(),
                        "WAL before " + keptBegins);
            });
            assertTrue(repository.get(layout.backupInfoKey("pg-kept-before")).isEmpty(), "the backup left the repository");
            assertTrue(repository.get(layout.backupInfoKey("pg-kept")).isPresent());
            assertEquals(PostgresBackupStatus.PHASE_COMPLETED, status(NS, "pg-kept").phase);
            assertTrue(segments(repository, layout).contains(keptBegins), "the kept backup's WAL stays");
            String report = client.resources(PostgresCluster.class).inNamespace(NS).withName("pg").get().getStatus().backup.lastRetention;
            assertTrue(report != null && report.contains("removed backups") && report.contains("pg-kept-before"), report);
        } finally {
            setRetention("pg", null);
        }
    }

    /**
     * spec.backup.verify on Kubernetes: the round finds a drill due (the cluster was never drilled:
     * counted from its creation) and runs it off its own thread on the newest completed backup, a
     * real restore of it to a consistent state; status.backup and the metric record it. A backup
     * whose base.tar.zst is corrupted in the repository fails the next drill, naming the file.
     */
    @Test
    void aScheduledDrillRestoresTheNewestBackupAndACorruptedOneFailsNamingTheFile() throws Exception {
        instance();
        backup(NS, "pg-drilled", "pg");
        awaitPhase(NS, "pg-drilled", PostgresBackupStatus.PHASE_COMPLETED);
        Path tar = REPOSITORY.resolve(new RepositoryLayout("pg", Compression.ZSTD).baseTarKey("pg-drilled"));
        byte[] good = Files.readAllBytes(tar);
        setVerify("pg", "* * * * *");
        try {
            Instant before = Instant.now().truncatedTo(ChronoUnit.SECONDS);
            // as a Knative Service, rounds start no drill (only the drill trigger's call, which keeps the pod, does)
            Optional<Instant> lastBefore = Optional.ofNullable(lastDrill());
            try (KubernetesDrills knative = new KubernetesDrills(adapter()::clusters, new StatusWrites(client), verifier, metrics,
                    Runnable::run, java.time.Clock.systemUTC(), false)) {
                knative.tick(Instant.now().plus(2, ChronoUnit.MINUTES));
                assertTrue(knative.running(NS, "pg").isEmpty(), "no drill started by a Knative round");
            }
            assertEquals(lastBefore, Optional.ofNullable(lastDrill()));
            // rounds at times of the test's choosing: slots of the every-minute schedule have passed
            adapter().round(Instant.now().plus(2, ChronoUnit.MINUTES));
            await().atMost(120, TimeUnit.SECONDS).until(() -> lastDrill() != null && !lastDrill().isBefore(before));
            BackupStatus b = clusterBackupStatus(NS, "pg");
            assertEquals("pg-drilled", b.lastVerifiedBackup, "failure: " + b.lastDrillFailure);
            assertTrue(!Instant.parse(b.lastVerifiedAt).isBefore(before), b.lastVerifiedAt);
            assertNotNull(b.nextScheduledDrill);
            assertEquals(Instant.parse(b.lastVerifiedAt).getEpochSecond(), gauge("pgha.backup.last.verified.timestamp.seconds"));
            double failuresBefore = drillFailures();

            byte[] corrupt = good.clone();
            corrupt[corrupt.length - 100] ^= 0x5a;
            Files.write(tar, corrupt);
            Instant verified = Instant.parse(b.lastVerifiedAt);
            adapter().round(Instant.now().plus(4, ChronoUnit.MINUTES));
            await().atMost(120, TimeUnit.SECONDS).until(() -> clusterBackupStatus(NS, "pg").lastDrillFailureAt != null
                    && !Instant.parse(clusterBackupStatus(NS, "pg").lastDrillFailureAt).isBefore(verified));
            b = clusterBackupStatus(NS, "pg");
            assertTrue(b.lastDrillFailure.startsWith("file base.tar.zst of backup pg-drilled: ") && b.lastDrillFailure.contains("checksum"),
                    b.lastDrillFailure);
            assertEquals("pg-drilled", b.lastVerifiedBackup, "the last drill that passed stays recorded");
            assertEquals(failuresBefore + 1, drillFailures());
            assertEquals(Instant.parse(b.lastDrillFailureAt).getEpochSecond(), gauge("pgha.backup.last.drill.failure.timestamp.seconds"));
        } finally {
            Files.write(tar, good);
            setVerify("pg", null);
        }
    }

    /**
     * Knative: the verify CronJob runs the unchanged backup-trigger.sh against the drill trigger.
     * Only the cluster's WAL token opens it; it runs the drill that is due, once, and answers when
     * it ended: here the newest backup's base.tar.zst is corrupted in the repository, so the drill
     * fails, naming the file, which fails the Job and is recorded in status.backup. The profile's
     * wait of 0 s makes the service answer 202 naming the backup while the drill runs, and the
     * script waits on with {@code ?backup=}. {@link DrillTriggerResourceTest} has the other answers.
     */
    @Test
    void theDrillTriggerNeedsTheClustersTokenAndRunsTheDueDrillOnceAnsweringWhenItEnded() throws Exception {
        instance();
        backup(NS, "pg-trigdrill", "pg");
        awaitPhase(NS, "pg-trigdrill", PostgresBackupStatus.PHASE_COMPLETED);
        Path tar = REPOSITORY.resolve(new RepositoryLayout("pg", Compression.ZSTD).baseTarKey("pg-trigdrill"));
        byte[] good = Files.readAllBytes(tar);
        // the cluster's last drill passed two hours ago, as status.backup records it; drills are daily, at an hour ago
        String twoHoursAgo = Instant.now().minus(2, ChronoUnit.HOURS).truncatedTo(ChronoUnit.SECONDS).toString();
        client.resources(PostgresCluster.class).inNamespace(NS).withName("pg").editStatus(c -> {
            if (c.getStatus().backup == null) {
                c.getStatus().backup = new BackupStatus();
            }
            c.getStatus().backup.lastVerifiedAt = twoHoursAgo;
            c.getStatus().backup.lastVerifiedBackup = "pg-earlier";
            c.getStatus().backup.lastDrillFailure = null;
            c.getStatus().backup.lastDrillFailureAt = null;
            return c;
        });
        var hourAgo = Instant.now().minus(1, ChronoUnit.HOURS).atZone(ZoneOffset.UTC);
        setVerify("pg", hourAgo.getMinute() + " " + hourAgo.getHour() + " * * *");
        cluster("drills", "nodrills", filesystem(REPOSITORY), false, null);
        try {
            String path = ClusterNames.drillTriggerPath(NS, "pg");
            var none = RestAssured.given().post(path);
            assertEquals(401, none.statusCode(), none.asString());
            assertEquals("Bearer realm=\"pgha-wal\"", none.header("WWW-Authenticate"));
            var wrong = RestAssured.given().header("Authorization", "Bearer not-the-token-of-this-cluster-00").post(path);
            assertEquals(403, wrong.statusCode(), wrong.asString());
            assertEquals("refused the drill trigger of cluster db/pg: wrong token", wrong.asString().strip());
            var unknown = RestAssured.given().header("Authorization", "Bearer " + TOKEN).post(ClusterNames.drillTriggerPath(NS, "ghost"));
            assertEquals(404, unknown.statusCode(), unknown.asString());
            var noVerify = RestAssured.given().header("Authorization", "Bearer " + TOKEN).post(ClusterNames.drillTriggerPath("drills", "nodrills"));
            assertEquals(404, noVerify.statusCode(), noVerify.asString());
            assertEquals("drill trigger of cluster drills/nodrills: cluster drills/nodrills has no spec.backup.verify", noVerify.asString().strip());
            assertEquals(twoHoursAgo, clusterBackupStatus(NS, "pg").lastVerifiedAt, "a refused call runs no drill");

            byte[] corrupt = good.clone();
            corrupt[corrupt.length - 100] ^= 0x5a;
            Files.write(tar, corrupt);
            Path script = walPush.getParent().resolve("backup-trigger.sh");
            shipped("backup-trigger.sh", script);
            // plain HTTP, as the knative overlay's verify CronJob calls it (the schedule trigger's test has the TLS path)
            String url = "http://127.0.0.1:" + RestAssured.port + path;
            String[] first = run("bash", script.toString(), url, tokenFile.toString());
            assertEquals("1", first[0], "a failed drill fails the Job: " + first[1]);
            List<String> lines = first[1].strip().lines().toList();
            String last = lines.get(lines.size() - 1);
            assertTrue(last.startsWith("backup-trigger: " + url) && last.contains(" answered 'HTTP/1.1 500 Internal Server Error': "
                    + "restore drill of backup pg-trigdrill of cluster db/pg failed: file base.tar.zst of backup pg-trigdrill: ")
                    && last.contains("checksum"), first[1]);
            // the call returned once the drill had ended and was recorded, not before
            BackupStatus b = clusterBackupStatus(NS, "pg");
            assertTrue(b.lastDrillFailure.startsWith("file base.tar.zst of backup pg-trigdrill: "), b.lastDrillFailure);
            assertEquals(twoHoursAgo, b.lastVerifiedAt);

            String[] again = run("bash", script.toString(), url, tokenFile.toString());
            assertEquals("0", again[0], again[1]);
            assertEquals("backup-trigger: no restore drill due for cluster db/pg (or no completed backup to drill) and none running", again[1].strip());
            assertEquals(b.lastDrillFailureAt, clusterBackupStatus(NS, "pg").lastDrillFailureAt, "the same slot drills once");
            // waiting on a drill that ended answers what status.backup recorded of it; a backup it says nothing of is unknown
            var ended = RestAssured.given().header("Authorization", "Bearer " + TOKEN).queryParam("backup", "pg-trigdrill").post(path);
            assertEquals(500, ended.statusCode(), ended.asString());
            assertEquals("restore drill of backup pg-trigdrill of cluster db/pg failed: " + b.lastDrillFailure, ended.asString().strip());
            var other = RestAssured.given().header("Authorization", "Bearer " + TOKEN).queryParam("backup", "pg-earlier").post(path);
            assertEquals(404, other.statusCode(), other.asString());
        } finally {
            Files.write(tar, good);
            setVerify("pg", null);
            client.resources(PostgresCluster.class).inNamespace("drills").withName("nodrills").delete();
        }
    }

    private Instant lastDrill() {
        BackupStatus b = clusterBackupStatus(NS, "pg");
        return io.pgha.backup.core.Drills.lastDrill(b).orElse(null);
    }

    private BackupStatus clusterBackupStatus(String ns, String cluster) {
        PostgresClusterStatus s = client.resources(PostgresCluster.class).inNamespace(ns).withName(cluster).get().getStatus();
        return s == null || s.backup == null ? new BackupStatus() : s.backup;
    }

    private long gauge(String name) {
        return (long) registry.find(name).tag(io.pgha.api.MetricLabels.CLUSTER, "pg").gauge().value();
    }

    private double drillFailures() {
        var counter = registry.find("pgha.backup.drill.failures").tag(io.pgha.api.MetricLabels.CLUSTER, "pg").counter();
        return counter == null ? 0 : counter.count();
    }

    /** spec.backup.verify of cluster {@code cluster} in NS, or none with null, once the adapter's informer has it. */
    private void setVerify(String cluster, String verify) {
        await().atMost(30, TimeUnit.SECONDS).ignoreExceptionsInstanceOf(io.fabric8.kubernetes.client.KubernetesClientException.class)
                .until(() -> {
                    PostgresCluster c = client.resources(PostgresCluster.class).inNamespace(NS).withName(cluster).get();
                    c.getSpec().backup.verify = verify;
                    client.resource(c).update();
                    return true;
                });
        await().atMost(30, TimeUnit.SECONDS).until(() -> adapter().clusters().stream().anyMatch(c -> cluster.equals(c.getMetadata().getName())
                && Objects.equals(verify, c.getSpec().backup.verify)));
    }

    /** spec.backup.retention with this recovery window, or the default retention (7 days) with null. */
    private void setRetention(String cluster, String window) {
        await().atMost(30, TimeUnit.SECONDS).ignoreExceptionsInstanceOf(io.fabric8.kubernetes.client.KubernetesClientException.class)
                .until(() -> {
                    PostgresCluster c = client.resources(PostgresCluster.class).inNamespace(NS).withName(cluster).get();
                    c.getSpec().backup.retention = new BackupSpec.Retention();
                    c.getSpec().backup.retention.recoveryWindow = window;
                    client.resource(c).update();
                    return true;
                });
        // the adapter's rounds read the clusters from its informer
        await().atMost(30, TimeUnit.SECONDS).until(() -> adapter().clusters().stream().anyMatch(c -> cluster.equals(c.getMetadata().getName())
                && java.util.Objects.equals(window, c.getSpec().backup.retention.recoveryWindow)));
    }

    private static List<WalFileName> segments(FilesystemRepository repository, RepositoryLayout layout) throws IOException {
        return repository.list(layout.walPrefix()).stream().map(layout::walFileOf).flatMap(Optional::stream)
                .filter(w -> w.kind() == WalFileName.Kind.SEGMENT).toList();
    }

    @Test
    void backupsThatCannotRunFailWithTheReason() throws Exception {
        instance();
        // no such cluster
        backup(NS, "ghost-1", "ghost");
        assertEquals("spec.cluster: no PostgresCluster ghost in namespace " + NS,
                awaitPhase(NS, "ghost-1", PostgresBackupStatus.PHASE_FAILED).error);

        // an S3 repository whose credentials Secret does not exist
        BackupSpec s3 = new BackupSpec();
        s3.repository = new BackupSpec.Repository();
        s3.repository.s3 = new BackupSpec.S3();
        s3.repository.s3.bucket = "backups";
        s3.repository.s3.credentialsSecret = "missing-keys";
        s3.schedule = filesystem(REPOSITORY).schedule;
        cluster(NS, "s3pg", s3, false, null);
        backup(NS, "s3pg-1", "s3pg");
        String error = awaitPhase(NS, "s3pg-1", PostgresBackupStatus.PHASE_FAILED).error;
        assertTrue(error.contains("the Secret " + NS + "/missing-keys does not exist"), error);

        // the replication password is wrong: it fails once it runs, with the server's reason
        cluster(NS, "badrepl", filesystem(REPOSITORY), true, "not-the-password");
        backup(NS, "badrepl-1", "badrepl");
        PostgresBackupStatus failed = awaitPhase(NS, "badrepl-1", PostgresBackupStatus.PHASE_FAILED);
        assertTrue(failed.error.startsWith("cannot open a replication connection to instance badrepl-1: ")
                && failed.error.contains("password authentication failed"), failed.error);
        assertEquals("badrepl-1", failed.instance);
        assertNotNull(failed.finishedAt);
    }

    @Test
    void theScheduleCreatesOneBackupPerSlotAndOneOnReturnAfterMissedSlots() throws Exception {
        instance();
        String ns = "sched";
        BackupSpec spec = filesystem(REPOSITORY);
        spec.schedule = "* * * * *";
        // no pod: the scheduled backups fail at once, which is all this test needs of them
        cluster(ns, "minutely", spec, false, null);
        await().atMost(10, TimeUnit.SECONDS).until(() -> adapter().clusters().stream().anyMatch(c -> c.getMetadata().getName().equals("minutely")));
        // rounds at times of the test's choosing, minutes ahead of the real clock
        Instant minute = Instant.now().truncatedTo(ChronoUnit.MINUTES).plus(10, ChronoUnit.MINUTES);

        // ten slots have passed since the cluster was created and it has no backup: one, not ten
        adapter().round(minute.plusSeconds(30));
        List<String> first = backups(ns);
        assertEquals(1, first.size(), first.toString());
        assertEquals("minutely", client.resources(PostgresBackup.class).inNamespace(ns).withName(first.get(0)).get().getSpec().cluster);
        assertEquals(minute.plusSeconds(60).toString(), nextScheduled(ns, "minutely"));
        String error = awaitPhase(ns, first.get(0), PostgresBackupStatus.PHASE_FAILED).error;
        assertTrue(error.contains("minutely-1 has no pod"), error);

        adapter().round(minute.plusSeconds(50));
        assertEquals(first, backups(ns), "a slot is served once");

        adapter().round(minute.plusSeconds(65));
        assertEquals(2, backups(ns).size(), backups(ns).toString());
        assertEquals(minute.plusSeconds(120).toString(), nextScheduled(ns, "minutely"));
        adapter().round(minute.plusSeconds(100));
        assertEquals(2, backups(ns).size(), "a slot is served once: " + backups(ns));
        // minutes pass before the next round: that backup has ended by then (one still running would serve the slot)
        awaitPhase(ns, backups(ns).get(1), PostgresBackupStatus.PHASE_FAILED);

        // four slots missed while the service was away: one backup on its return
        adapter().round(minute.plusSeconds(6 * 60 + 5));
        assertEquals(3, backups(ns).size(), backups(ns).toString());
        adapter().round(minute.plusSeconds(6 * 60 + 20));
        assertEquals(3, backups(ns).size(), backups(ns).toString());
    }

    /**
     * Knative: the schedule's CronJob runs backup-trigger.sh (from the provisioner's resources, as
     * the CronJob has it) against the schedule trigger. Only the cluster's WAL token opens it; it
     * starts the backup the schedule says is due and answers once that backup has ended, here
     * failed (the cluster has no pod: a real backup would need WAL archived under its name, which
     * the one test instance pushes as pg's), which fails the Job; a second call in the same slot
     * starts nothing. The profile's wait of 0 s makes the service answer 202 while the backup has
     * not ended, and the script then waits on that backup ({@code ?backup=}), whose failure is what
     * its last call reports. {@link ScheduleTriggerResourceTest} has the other answers.
     */
    @Test
    void theScheduleTriggerNeedsTheClustersTokenAndRunsTheDueBackupOnceAnsweringWhenItEnded() throws Exception {
        instance();
        String ns = "knative";
        // the cluster's last backup began two hours ago (one that failed, asked for before the cluster existed)
        backup(ns, "trig-old", "trig");
        awaitPhase(ns, "trig-old", PostgresBackupStatus.PHASE_FAILED);
        String twoHoursAgo = Instant.now().minus(2, ChronoUnit.HOURS).toString();
        client.resources(PostgresBackup.class).inNamespace(ns).withName("trig-old").editStatus(b -> {
            b.getStatus().startedAt = twoHoursAgo;
            return b;
        });
        BackupSpec spec = filesystem(REPOSITORY);
        // daily, at an hour ago: one slot since the last backup, and none again for a day
        var hourAgo = Instant.now().minus(1, ChronoUnit.HOURS).atZone(ZoneOffset.UTC);
        spec.schedule = hourAgo.getMinute() + " " + hourAgo.getHour() + " * * *";
        cluster(ns, "trig", spec, false, null);
        try {
            String path = ClusterNames.scheduleTriggerPath(ns, "trig");
            var none = RestAssured.given().post(path);
            assertEquals(401, none.statusCode(), none.asString());
            assertEquals("Bearer realm=\"pgha-wal\"", none.header("WWW-Authenticate"));
            var wrong = RestAssured.given().header("Authorization", "Bearer not-the-token-of-this-cluster-00").post(path);
            assertEquals(403, wrong.statusCode(), wrong.asString());
            assertEquals("refused the schedule trigger of cluster knative/trig: wrong token", wrong.asString().strip());
            var unknown = RestAssured.given().header("Authorization", "Bearer " + TOKEN).post(ClusterNames.scheduleTriggerPath(ns, "ghost"));
            assertEquals(404, unknown.statusCode(), unknown.asString());
            assertEquals(List.of("trig-old"), backups(ns), "a refused call starts nothing");

            Path script = walPush.getParent().resolve("backup-trigger.sh");
            shipped("backup-trigger.sh", script);
            // over TLS, as the CronJob calls the backup Deployment; a CA that did not sign the service's certificate is refused first
            String url = TLS.url(path);
            String[] untrusted = run("bash", script.toString(), url, tokenFile.toString(), TLS.otherCa.toString());
            assertEquals("1", untrusted[0], untrusted[1]);
            assertEquals("backup-trigger: no answer from " + url + ": the certificate of localhost:" + TLS.port
                    + " is not trusted: unable to get local issuer certificate (checked against " + TLS.otherCa + ")", untrusted[1].strip());
            assertEquals(List.of("trig-old"), backups(ns), "a call to an untrusted server sends nothing");
            String[] first = run("bash", script.toString(), url, tokenFile.toString(), TLS.ca.toString());
            List<String> taken = backups(ns).stream().filter(b -> !b.equals("trig-old")).toList();
            assertEquals(1, taken.size(), backups(ns).toString());
            assertEquals("1", first[0], "a failed backup fails the Job: " + first[1]);
            List<String> lines = first[1].strip().lines().toList();
            String last = lines.get(lines.size() - 1);
            // the URL of the last call: with ?backup= when it came after a 202, which the wait of 0 s all but always gives
            assertTrue(last.startsWith("backup-trigger: " + url) && last.endsWith(" answered 'HTTP/1.1 500 Internal Server Error': backup "
                    + taken.get(0) + " of cluster knative/trig failed: instance trig-1 has no pod in namespace knative"), first[1]);
            // the call returned once the backup had ended, not before
            assertEquals(PostgresBackupStatus.PHASE_FAILED, status(ns, taken.get(0)).phase);

            String[] again = run("bash", script.toString(), url, tokenFile.toString(), TLS.ca.toString());
            assertEquals("0", again[0], again[1]);
            assertEquals("backup-trigger: nothing due for cluster knative/trig and none of its backups running", again[1].strip());
            assertEquals(2, backups(ns).size(), "the same slot starts nothing: " + backups(ns));
            // waiting on a backup names one of the cluster's own
            var ended = RestAssured.given().header("Authorization", "Bearer " + TOKEN).queryParam("backup", "trig-old").post(path);
            assertEquals(500, ended.statusCode(), ended.asString());
            assertEquals("backup trig-old of cluster knative/trig failed: spec.cluster: no PostgresCluster trig in namespace knative",
                    ended.asString().strip());
            var others = RestAssured.given().header("Authorization", "Bearer " + TOKEN).queryParam("backup", "pg-first").post(path);
            assertEquals(404, others.statusCode(), others.asString());
        } finally {
            // later rounds of other tests would otherwise take this cluster's backups
            client.resources(PostgresCluster.class).inNamespace(ns).withName("trig").delete();
        }
    }

    @Test
    void walPushSucceedsOnlyWhenTheServiceAnswers2xx() throws Exception {
        instance();
        Path segment = Files.createTempFile("pgha-not-wal", "");
        segment.toFile().deleteOnExit();
        Files.write(segment, new byte[] {1, 2, 3});
        // a name that is no WAL file: the service answers 400, and the push must fail so PostgreSQL keeps the file
        Process p = new ProcessBuilder("bash", walPush.toString(), segment.toString(),
                "http://127.0.0.1:" + RestAssured.port + "/wal/pg/not-a-wal-file", tokenFile.toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(1, p.waitFor(), out);
        assertTrue(out.contains("answered 'HTTP/1.1 400"), out);
        // WAL of a cluster this service does not watch is refused, never stored in some default place
        Process unknown = new ProcessBuilder("bash", walPush.toString(), segment.toString(),
                "http://127.0.0.1:" + RestAssured.port + "/wal/ghost/000000010000000000000001", tokenFile.toString()).redirectErrorStream(true).start();
        String unknownOut = new String(unknown.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(1, unknown.waitFor(), unknownOut);
        assertTrue(unknownOut.contains("answered 'HTTP/1.1 500"), unknownOut);
        // nothing listens there: fails too
        Process refused = new ProcessBuilder("bash", walPush.toString(), segment.toString(),
                "http://127.0.0.1:" + io.pgha.local.Ports.freePort() + "/wal/pg/000000010000000000000001", tokenFile.toString())
                .redirectErrorStream(true).start();
        String refusedOut = new String(refused.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(refused.waitFor() != 0, refusedOut);
    }

    /**
     * TLS on the push: over HTTPS a segment is stored only when the service's certificate chains to
     * the CA file the instance trusts and names the host the URL names; a certificate signed by
     * another CA, or reached under a name it does not carry, fails the push with one line saying so
     * before the token or the WAL is sent, and stores nothing.
     */
    @Test
    void walPushOverTlsStoresOnlyWhenTheServiceCertificateIsTrustedAndNamesTheHost() throws Exception {
        instance();
        cluster("tls", "tlspg", filesystem(REPOSITORY), false, null);
        Path segment = Files.createTempFile(walPush.getParent(), "segment", "");
        Files.write(segment, new byte[] {4, 2});

        String untrustedUrl = TLS.url("/wal/tlspg/0000000100000000000000A1");
        String[] untrusted = run("bash", walPush.toString(), segment.toString(), untrustedUrl, tokenFile.toString(), TLS.otherCa.toString());
        assertEquals("1", untrusted[0], untrusted[1]);
        assertEquals("wal-push: no answer from " + untrustedUrl + ": the certificate of localhost:" + TLS.port
                + " is not trusted: unable to get local issuer certificate (checked against " + TLS.otherCa + ")", untrusted[1].strip());
        // the service's own certificate, reached by an address it does not name
        String otherName = "https://127.0.0.1:" + TLS.port + "/wal/tlspg/0000000100000000000000A1";
        String[] mismatch = run("bash", walPush.toString(), segment.toString(), otherName, tokenFile.toString(), TLS.ca.toString());
        assertEquals("1", mismatch[0], mismatch[1]);
        assertEquals("wal-push: no answer from " + otherName + ": the certificate of 127.0.0.1:" + TLS.port
                + " is not trusted: hostname mismatch (checked against " + TLS.ca + ")", mismatch[1].strip());
        assertEquals(List.of(), walKeys("tlspg"), "a push to an unverified server stores nothing");

        String[] stored = run("bash", walPush.toString(), segment.toString(), TLS.url("/wal/tlspg/0000000100000000000000A1"),
                tokenFile.toString(), TLS.ca.toString());
        assertEquals("0", stored[0], stored[1]);
        assertEquals(1, walKeys("tlspg").size(), walKeys("tlspg").toString());
        assertEquals(200, fetch("tlspg", "0000000100000000000000A1", "Bearer " + TOKEN));
    }

    /**
     * The attack the token closes: a stranger who reaches the service stores a segment the cluster
     * has not pushed yet, so that the real push is refused as different content and a restore
     * replays the stranger's WAL. Only a request with the cluster's token (from its Secret, read at
     * each request) gets in; the real instance archives through wal-push.sh with its token file.
     */
    @Test
    void walRequestsNeedTheClustersTokenFromItsSecretAndRefusalsStoreNothing() throws Exception {
        instance();
        List<LogRecord> logged = new CopyOnWriteArrayList<>();
        Handler capture = new Handler() {
            @Override
            public void publish(LogRecord r) {
                logged.add(r);
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        // WalAnswers (package-private) logs the refusals of both WAL endpoints
        java.util.logging.Logger walLog = java.util.logging.Logger.getLogger("io.pgha.backup.service.WalAnswers");
        walLog.addHandler(capture);
        try {
            // the real instance: a switched segment reaches the repository, pushed by wal-push.sh with the mounted token
            String switched;
            try (Connection c = connect(pg); Statement st = c.createStatement()) {
                st.execute("INSERT INTO t SELECT g, md5(g::text) FROM generate_series(20001, 20100) g");
                try (var rs = st.executeQuery("SELECT pg_walfile_name(pg_switch_wal())")) {
                    rs.next();
                    switched = rs.getString(1);
                }
            }
            await().atMost(30, TimeUnit.SECONDS).until(() -> fetch("pg", switched, "Bearer " + TOKEN) == 200);

            String ns = "auth";
            cluster(ns, "authpg", filesystem(REPOSITORY), false, null);
            String forged = "0000000100000000000000F0";
            Path segment = Files.createTempFile(walPush.getParent(), "forged", "");
            Files.write(segment, new byte[] {6, 6, 6});
            String url = "http://127.0.0.1:" + RestAssured.port + "/wal/authpg/" + forged;

            // no token: 401 with the challenge, nothing stored
            var none = RestAssured.given().body(new byte[] {6, 6, 6}).contentType("application/octet-stream").put("/wal/authpg/" + forged);
            assertEquals(401, none.statusCode(), none.asString());
            assertEquals("Bearer realm=\"pgha-wal\"", none.header("WWW-Authenticate"));
            assertEquals("refused a WAL push of " + forged + " for cluster authpg: no bearer token", none.asString().strip());
            // a wrong token through wal-push.sh, as a stranger with the script would send it: 403, and the push fails
            String wrong = "not-the-token-of-this-cluster-00";
            String[] refused = walPush(segment, url, tokenFile(walPush.getParent(), wrong));
            assertEquals("1", refused[0], refused[1]);
            assertTrue(refused[1].contains("answered 'HTTP/1.1 403"), refused[1]);
            // another cluster's token is as wrong as any other
            secretData(ns, ClusterNames.walPushSecret("authpg"), "rotated-token-of-authpg-00000001");
            assertEquals("1", walPush(segment, url, tokenFile)[0], "pg's token does not open authpg");
            assertEquals(List.of(), walKeys("authpg"), "a refused push stores nothing");
            // reading WAL needs the token too: it holds every row the cluster wrote
            assertEquals(401, fetch("pg", switched, null));
            assertEquals(403, fetch("pg", switched, "Bearer " + wrong));

            // the token rotated in the Secret is the one required from the next push on
            String[] stored = walPush(segment, url, tokenFile(walPush.getParent(), "rotated-token-of-authpg-00000001"));
            assertEquals("0", stored[0], stored[1]);
            assertEquals(1, walKeys("authpg").size(), walKeys("authpg").toString());
            assertEquals(200, fetch("authpg", forged, "Bearer rotated-token-of-authpg-00000001"));

            // each refusal is counted and logged with the cluster and the file, never with the token
            assertEquals(1.0, refusals("authpg", "missing"));
            assertEquals(2.0, refusals("authpg", "wrong"));
            assertEquals(1.0, refusals("pg", "missing"));
            assertEquals(1.0, refusals("pg", "wrong"));
            List<String> warnings = logged.stream().filter(r -> r.getLevel().intValue() >= Level.WARNING.intValue())
                    .map(r -> java.text.MessageFormat.format(r.getMessage(), r.getParameters() == null ? new Object[0] : r.getParameters()))
                    .toList();
            assertTrue(warnings.stream().anyMatch(w -> w.startsWith("refused a WAL push of " + forged + " for cluster authpg: wrong token (from 127.0.0.1)")),
                    warnings.toString());
            assertTrue(warnings.stream().noneMatch(w -> w.contains(wrong) || w.contains(TOKEN) || w.contains("rotated-token")), warnings.toString());
        } finally {
            walLog.removeHandler(capture);
        }
    }

    private double refusals(String cluster, String reason) {
        var counter = registry.find("pgha.wal.unauthorized.requests").tag(io.pgha.api.MetricLabels.CLUSTER, cluster).tag("reason", reason).counter();
        return counter == null ? 0 : counter.count();
    }

    private static int fetch(String cluster, String file, String authorization) {
        var request = RestAssured.given();
        if (authorization != null) {
            request.header("Authorization", authorization);
        }
        return request.get("/wal/" + cluster + "/" + file).statusCode();
    }

    /** wal-push.sh as archive_command runs it: its exit code and what it printed. */
    private static String[] walPush(Path file, String url, Path token) throws Exception {
        return run("bash", walPush.toString(), file.toString(), url, token.toString());
    }

    /** A command's exit code and what it printed. */
    private static String[] run(String... command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        return new String[] {Integer.toString(p.waitFor()), out};
    }

    private static List<String> walKeys(String cluster) throws IOException {
        return new FilesystemRepository(REPOSITORY).list(new RepositoryLayout(cluster, Compression.ZSTD).walPrefix());
    }

    private void secretData(String ns, String name, String token) {
        client.secrets().inNamespace(ns).withName(name).edit(s -> {
            s.getData().put(ClusterNames.WAL_PUSH_TOKEN_KEY, Base64.getEncoder().encodeToString(token.getBytes(StandardCharsets.UTF_8)));
            return s;
        });
    }

    private List<String> backups(String ns) {
        return client.resources(PostgresBackup.class).inNamespace(ns).list().getItems().stream()
                .map(b -> b.getMetadata().getName()).sorted().toList();
    }

    private String nextScheduled(String ns, String cluster) {
        PostgresClusterStatus s = client.resources(PostgresCluster.class).inNamespace(ns).withName(cluster).get().getStatus();
        return s == null || s.backup == null ? null : s.backup.nextScheduledBackup;
    }
}
