package io.pgha.provisioner.kubernetes;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodStatusBuilder;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.pgha.api.ClusterNames;
import io.pgha.api.InstancePods;
import io.pgha.api.Labels;
import io.pgha.api.SecretData;
import io.pgha.api.tls.InstanceCertificates;
import io.pgha.api.tls.ServerIdentity;
import io.pgha.api.v1.ClusterPhase;
import io.pgha.api.v1.Condition;
import io.pgha.api.v1.ConditionTypes;
import io.pgha.api.v1.Conditions;
import io.pgha.api.v1.cluster.PostgresCluster;
import io.pgha.api.v1.cluster.ReplicationSpec;
import io.pgha.api.v1.cluster.RouterSpec;
import io.pgha.local.testing.TempDirectories;
import io.pgha.provisioner.tls.CertificateIssuer;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.quarkus.test.kubernetes.client.WithKubernetesTestServer;
import jakarta.inject.Inject;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The operator against the fabric8 mock API server in CRUD mode. The mock has no kubelet: the
 * tests mark pods Ready themselves, as kubelet would once PostgreSQL answers, and play the
 * monitor by writing status.topology. Each test works in its own namespace.
 */
@QuarkusTest
@TestProfile(KubernetesPlatformProfile.class)
@WithKubernetesTestServer(crud = true)
class PostgresClusterReconcilerMockTest {
    private static final Duration WAIT = Duration.ofSeconds(30);

    @Inject
    KubernetesClient client;

    @Inject
    MeterRegistry registry;

    @BeforeEach
    void crd() throws IOException {
        if (client.apiextensions().v1().customResourceDefinitions().withName("postgresclusters.pgha.io").get() == null) {
            CustomResourceDefinition crd = client.getKubernetesSerialization().unmarshal(Files.readString(
                    Clusters.REPO.resolve("kustomize/base/crds/postgresclusters.pgha.io-v1.yml")), CustomResourceDefinition.class);
            client.resource(crd).create();
        }
    }

    @Test
    void exampleClusterYieldsEveryObjectAndASecondPassChangesNothing() {
        String ns = "example";
        PostgresCluster cluster = apply(ns);

        await().atMost(WAIT).until(() -> pods(ns).size() == 3);
        PostgresCluster created = get(ns);
        assertEquals(ClusterPhase.SETTING_UP_PRIMARY, awaitStatus(ns, s -> s.getStatus().phase != null).getStatus().phase);
        assertEquals(List.of("pg-1", "pg-2", "pg-3"), names(pods(ns)));
        assertEquals(Map.of("pg-1", "primary", "pg-2", "standby", "pg-3", "standby"), roles(ns));
        for (Pod pod : pods(ns)) {
            assertOwnedBy(created, pod);
            assertEquals("postgres:15", pod.getSpec().getContainers().get(0).getImage());
            assertEquals(pod.getMetadata().getName(), pod.getSpec().getVolumes().stream().filter(v -> v.getName().equals("data"))
                    .findFirst().orElseThrow().getPersistentVolumeClaim().getClaimName());
            assertNotNull(pod.getSpec().getContainers().get(0).getLivenessProbe());
            assertNotNull(pod.getSpec().getContainers().get(0).getReadinessProbe());
        }
        assertEquals(List.of("pg-1", "pg-2", "pg-3"), names(client.persistentVolumeClaims().inNamespace(ns).list().getItems()));
        client.persistentVolumeClaims().inNamespace(ns).list().getItems()
                .forEach(pvc -> assertTrue(pvc.getMetadata().getOwnerReferences() == null || pvc.getMetadata().getOwnerReferences().isEmpty(),
                        "volumes outlive the cluster by default"));
        assertEquals(Set.of("pg-superuser", "pg-replication", "pg-app", "pg-router-auth", "pg-wal-push",
                "pg-ca", "pg-ca-cert", "pg-1-tls", "pg-2-tls", "pg-3-tls"), Set.copyOf(names(secrets(ns))),
                "the four credentials, the WAL push token, the CA (with and without its key) and a certificate per instance");
        var configMap = client.configMaps().inNamespace(ns).withName(ClusterNames.configMap("pg")).get();
        assertOwnedBy(created, configMap);
        assertEquals("pg-1", configMap.getData().get(ClusterConfigMap.FIRST_PRIMARY));
        var rw = client.services().inNamespace(ns).withName("pg-rw").get();
        assertEquals("primary", rw.getSpec().getSelector().get(Labels.ROLE));
        assertEquals("standby", client.services().inNamespace(ns).withName("pg-ro").get().getSpec().getSelector().get(Labels.ROLE));
        assertEquals(Labels.COMPONENT_ROUTER, client.services().inNamespace(ns).withName("pg-router").get().getSpec().getSelector().get(Labels.COMPONENT));
        var router = client.apps().deployments().inNamespace(ns).withName("pg-router").get();
        assertOwnedBy(created, router);
        assertEquals("registry.test/pgha/router:test", router.getSpec().getTemplate().getSpec().getContainers().get(0).getImage());
        assertNotNull(client.policy().v1().podDisruptionBudget().inNamespace(ns).withName("pg-pdb").get());
        assertNotNull(client.rbac().roles().inNamespace(ns).withName("pg-router").get());
        assertNotNull(client.rbac().roleBindings().inNamespace(ns).withName("pg-router").get());
        assertNotNull(client.serviceAccounts().inNamespace(ns).withName("pg-router").get());
        // the instances' own account, allowed to get their pods by name only (the isolation check)
        assertNotNull(client.serviceAccounts().inNamespace(ns).withName("pg-instance").get());
        assertNotNull(client.rbac().roleBindings().inNamespace(ns).withName("pg-instance").get());
        assertEquals(List.of("get"), client.rbac().roles().inNamespace(ns).withName("pg-instance").get().getRules().get(0).getVerbs());
        assertTrue(client.rbac().roles().inNamespace(ns).withName("pg-instance").get().getRules().get(0).getResourceNames()
                .containsAll(pods(ns).stream().map(p -> p.getMetadata().getName()).toList()));
        pods(ns).forEach(p -> assertEquals("pg-instance", p.getSpec().getServiceAccountName()));

        // kubelet reports the primary ready: the provisioner records it as the first primary, once
        markReady(ns, "pg-1");
        PostgresCluster bootstrapped = awaitStatus(ns, c -> c.getStatus().topology != null);
        assertEquals("pg-1", bootstrapped.getStatus().topology.currentPrimary);
        await().atMost(WAIT).until(() -> "".equals(client.configMaps().inNamespace(ns).withName(ClusterNames.configMap("pg")).get()
                .getData().get(ClusterConfigMap.FIRST_PRIMARY)));
        markReady(ns, "pg-2");
        markReady(ns, "pg-3");
        PostgresCluster ready = awaitStatus(ns, c -> ClusterPhase.READY.equals(c.getStatus().phase));
        assertTrue(Conditions.isTrue(ready.getStatus().conditions, ConditionTypes.READY));
        assertTrue(Conditions.isTrue(ready.getStatus().conditions, ConditionTypes.SPEC_VALID));
        assertEquals(1L, ready.getStatus().observedGeneration);
        assertEquals(List.of("pg-1", "pg-2", "pg-3"), ready.getStatus().provisioning.instances.stream().map(i -> i.name).toList());

        Map<String, String> before = resourceVersions(ns);
        triggerPassAndWait(ns);
        assertEquals(before, resourceVersions(ns), "a pass over an unchanged cluster writes nothing");
    }

    /**
     * PGHA_BACKUP_TRIGGER=cronjob (the knative overlay): the schedule's CronJob follows
     * spec.backup.schedule, the drills' CronJob spec.backup.verify, and both go with spec.backup.
     */
    @Test
    void theBackupScheduleCronJobFollowsTheScheduleAndGoesWithIt() {
        String ns = "backup-schedule";
        apply(ns);
        var cronJobs = client.batch().v1().cronjobs().inNamespace(ns);
        await().atMost(WAIT).until(() -> pods(ns).size() == 3);
        assertEquals(List.of(), cronJobs.list().getItems(), "no schedule without spec.backup");

        edit(ns, c -> {
            c.getSpec().backup = new io.pgha.api.v1.cluster.BackupSpec();
            c.getSpec().backup.repository = new io.pgha.api.v1.cluster.BackupSpec.Repository();
            c.getSpec().backup.repository.s3 = new io.pgha.api.v1.cluster.BackupSpec.S3();
            c.getSpec().backup.repository.s3.bucket = "backups";
            c.getSpec().backup.schedule = "30 4 * * 7";
        });
        await().atMost(WAIT).until(() -> cronJobs.withName("pg-schedule").get() != null);
        var created = cronJobs.withName("pg-schedule").get();
        assertOwnedBy(get(ns), created);
        assertEquals("30 4 * * 0", created.getSpec().getSchedule(), "Sunday as Kubernetes spells it");
        assertEquals("Etc/UTC", created.getSpec().getTimeZone());

        edit(ns, c -> c.getSpec().backup.schedule = "*/15 * * * *");
        await().atMost(WAIT).until(() -> "*/15 * * * *".equals(cronJobs.withName("pg-schedule").get().getSpec().getSchedule()));
        assertNull(cronJobs.withName("pg-verify").get(), "no drill CronJob without spec.backup.verify");

        // spec.backup.verify: a second CronJob, calling the drill trigger at the drills' slots
        edit(ns, c -> c.getSpec().backup.verify = "45 5 * * *");
        await().atMost(WAIT).until(() -> cronJobs.withName("pg-verify").get() != null);
        var verify = cronJobs.withName("pg-verify").get();
        assertOwnedBy(get(ns), verify);
        assertEquals("45 5 * * *", verify.getSpec().getSchedule());
        assertTrue(verify.getSpec().getJobTemplate().getSpec().getTemplate().getSpec().getContainers().get(0).getCommand()
                .contains("http://pgha-backup.pgha-system.svc:80/drills/" + ns + "/pg"));
        edit(ns, c -> c.getSpec().backup.verify = "0 6 * * 1");
        await().atMost(WAIT).until(() -> "0 6 * * 1".equals(cronJobs.withName("pg-verify").get().getSpec().getSchedule()));
        edit(ns, c -> c.getSpec().backup.verify = null);
        await().atMost(WAIT).until(() -> cronJobs.withName("pg-verify").get() == null);
        assertEquals("*/15 * * * *", cronJobs.withName("pg-schedule").get().getSpec().getSchedule(), "the schedule's CronJob stays");

        edit(ns, c -> c.getSpec().backup.verify = "45 5 * * *");
        await().atMost(WAIT).until(() -> cronJobs.withName("pg-verify").get() != null);
        edit(ns, c -> c.getSpec().backup = null);
        await().atMost(WAIT).until(() -> cronJobs.withName("pg-schedule").get() == null && cronJobs.withName("pg-verify").get() == null);
    }

    @Test
    void aRouterSpecChangeLeavesTheRouterDeploymentAloneOnlyReplicasChangeIt() {
        String ns = "router-reload";
        apply(ns);
        await().atMost(WAIT).until(() -> client.apps().deployments().inNamespace(ns).withName("pg-router").get() != null);
        String before = routerDeployment(ns).getMetadata().getResourceVersion();
        double passes = passes(ns);
        // the routers read these from the cluster themselves and reload them: no restart
        edit(ns, c -> {
            c.getSpec().router.poolMode = RouterSpec.PoolMode.SESSION;
            c.getSpec().router.poolSize = 7;
            c.getSpec().router.maxClientConnections = 50;
            c.getSpec().router.readPolicy = RouterSpec.ReadPolicy.ANY;
            c.getSpec().router.maxReplicaLagBytes = 1024;
            c.getSpec().router.readYourWrites = false;
        });
        await().atMost(WAIT).until(() -> passes(ns) >= passes + 1);
        assertEquals(before, routerDeployment(ns).getMetadata().getResourceVersion(), "spec.router reaches the routers live");

        edit(ns, c -> c.getSpec().router.replicas = 3);
        await().atMost(WAIT).until(() -> routerDeployment(ns).getSpec().getReplicas() == 3);
        assertNotEquals(before, routerDeployment(ns).getMetadata().getResourceVersion());
    }

    @Test
    void scalingThreeFiveTwoAddsAndRemovesStandbysButNeverThePrimary() {
        String ns = "scaling";
        apply(ns);
        await().atMost(WAIT).until(() -> pods(ns).size() == 3);
        pods(ns).forEach(p -> markReady(ns, p.getMetadata().getName()));
        awaitStatus(ns, c -> ClusterPhase.READY.equals(c.getStatus().phase));
        // the monitor failed over to pg-3
        playMonitor(ns, "pg-3", 2);
        await().atMost(WAIT).until(() -> Map.of("pg-1", "standby", "pg-2", "standby", "pg-3", "primary").equals(roles(ns)));

        scale(ns, 5);
        await().atMost(WAIT).until(() -> pods(ns).size() == 5);
        assertEquals(List.of("pg-1", "pg-2", "pg-3", "pg-4", "pg-5"), names(pods(ns)));
        assertEquals("standby", roles(ns).get("pg-5"));
        pods(ns).forEach(p -> markReady(ns, p.getMetadata().getName()));
        awaitStatus(ns, c -> ClusterPhase.READY.equals(c.getStatus().phase) && c.getStatus().provisioning.instances.size() == 5);

        scale(ns, 2);
        await().atMost(WAIT).until(() -> names(pods(ns)).equals(List.of("pg-1", "pg-3")));
        assertEquals(Map.of("pg-1", "standby", "pg-3", "primary"), roles(ns));
        await().atMost(WAIT).until(() -> names(client.persistentVolumeClaims().inNamespace(ns).list().getItems())
                .equals(List.of("pg-1", "pg-3")));
        PostgresCluster two = awaitStatus(ns, c -> c.getStatus().provisioning.instances.size() == 2);
        assertEquals(List.of("pg-1", "pg-3"), two.getStatus().provisioning.instances.stream().map(i -> i.name).toList());
        assertEquals("pg-3", two.getStatus().topology.currentPrimary, "the monitor's topology is never touched");
        assertEquals(2, two.getStatus().topology.timeline);
        assertTrue(client.configMaps().inNamespace(ns).withName(ClusterNames.configMap("pg")).get()
                .getData().get(ClusterConfigMap.POSTGRESQL_CONF).contains("max_wal_senders = '10'"));
    }

    @Test
    void aFencedPrimaryIsRecreatedAsAStandbyAndNobodyIsLabelledPrimaryUntilThePromotion() {
        String ns = "fencing";
        apply(ns);
        await().atMost(WAIT).until(() -> pods(ns).size() == 3);
        pods(ns).forEach(p -> markReady(ns, p.getMetadata().getName()));
        awaitSettled(ns);
        String uid = client.pods().inNamespace(ns).withName("pg-1").get().getMetadata().getUid();
        // the monitor fences pg-1: records it as fenced (still the recorded primary), then deletes its pod
        client.resources(PostgresCluster.class).inNamespace(ns).withName("pg").subresource("status")
                .patch(PatchContext.of(PatchType.JSON_MERGE), "{\"status\":{\"topology\":{\"fenced\":[\"pg-1\"]}}}");
        client.pods().inNamespace(ns).withName("pg-1").delete();
        await().atMost(WAIT).until(() -> {
            Pod p = client.pods().inNamespace(ns).withName("pg-1").get();
            return p != null && !uid.equals(p.getMetadata().getUid());
        });
        assertEquals(Map.of("pg-1", "standby", "pg-2", "standby", "pg-3", "standby"), roles(ns),
                "recreated as a standby (it rejoins), and the -rw service selects nobody before the promotion");
        // the monitor promotes pg-2 and records it
        playMonitor(ns, "pg-2", 2);
        await().atMost(WAIT).until(() -> Map.of("pg-1", "standby", "pg-2", "primary", "pg-3", "standby").equals(roles(ns)));
    }

    @Test
    void invalidSpecGetsAConditionNamingTheFieldAndChangesNothing() {
        String ns = "invalid";
        apply(ns);
        await().atMost(WAIT).until(() -> pods(ns).size() == 3);
        pods(ns).forEach(p -> markReady(ns, p.getMetadata().getName()));
        awaitSettled(ns);
        Map<String, String> before = objectVersions(ns);

        // five instances with a quorum of five standbys: impossible, so neither part is acted on
        edit(ns, bad -> {
            bad.getSpec().instances = 5;
            bad.getSpec().replication.synchronous = ReplicationSpec.Synchronous.QUORUM;
            bad.getSpec().replication.number = 5;
        });
        PostgresCluster rejected = awaitStatus(ns, c -> Conditions.find(c.getStatus().conditions, ConditionTypes.SPEC_VALID)
                .map(x -> Condition.FALSE.equals(x.status)).orElse(false));
        Condition specValid = Conditions.find(rejected.getStatus().conditions, ConditionTypes.SPEC_VALID).orElseThrow();
        assertTrue(specValid.message.contains("spec.replication.number"), specValid.message);
        assertEquals(ClusterPhase.READY, rejected.getStatus().phase);
        assertEquals(1L, rejected.getStatus().observedGeneration, "the provisioner did not act on the invalid generation");
        Map<String, String> rejectedVersions = resourceVersions(ns);
        triggerPassAndWait(ns);
        assertEquals(before, objectVersions(ns), "no object changed, none created or deleted");
        assertEquals(rejectedVersions, resourceVersions(ns), "nor is the status patched again");

        // fixed: acted on
        edit(ns, fixed -> fixed.getSpec().replication.number = 2);
        await().atMost(WAIT).until(() -> pods(ns).size() == 5);
        awaitStatus(ns, c -> Conditions.isTrue(c.getStatus().conditions, ConditionTypes.SPEC_VALID));
    }

    @Test
    void aRestoreIsRefusedOnKubernetesAndNothingIsCreated() {
        String ns = "restore";
        client.namespaces().resource(new io.fabric8.kubernetes.api.model.NamespaceBuilder().withNewMetadata().withName(ns)
                .endMetadata().build()).create();
        PostgresCluster cluster = Clusters.example(ns);
        cluster.getMetadata().setUid(null);
        cluster.getMetadata().setGeneration(null);
        cluster.getSpec().bootstrap.recovery = new io.pgha.api.v1.cluster.BootstrapSpec.Recovery();
        cluster.getSpec().bootstrap.recovery.sourceCluster = "old";
        client.resource(cluster).create();

        // before, the pods ran initdb: an empty cluster where the user asked for their data back
        PostgresCluster refused = awaitStatus(ns, c -> Conditions.find(c.getStatus().conditions, ConditionTypes.SPEC_VALID)
                .map(x -> Condition.FALSE.equals(x.status)).orElse(false));
        Condition specValid = Conditions.find(refused.getStatus().conditions, ConditionTypes.SPEC_VALID).orElseThrow();
        assertTrue(specValid.message.contains("spec.bootstrap.recovery") && specValid.message.contains("local mode only"),
                specValid.message);
        triggerPassAndWait(ns);
        assertEquals(List.of(), pods(ns));
        assertEquals(List.of(), secrets(ns));
        assertEquals(List.of(), client.configMaps().inNamespace(ns).list().getItems().stream()
                .filter(m -> m.getMetadata().getName().startsWith("pg")).toList());
    }

    /**
     * The backup service's certificate: the provisioner makes an operator-wide CA and a server
     * certificate for the backup Service's names in its own namespace, puts the CA certificate into
     * each cluster's CA certificate Secret (which the instance pods and the schedule CronJob mount),
     * and issues the certificate anew once its renewal is due, under the same CA.
     */
    @Test
    void theBackupServiceCertificateIsIssuedForItsServiceNamesRenewedWhenDueAndItsCaReachesTheCluster() throws Exception {
        String ns = "backuptls";
        String services = "pgha-system";
        apply(ns);
        await().atMost(WAIT).until(() -> {
            Secret caCert = client.secrets().inNamespace(ns).withName(ClusterNames.caCertificateSecret("pg")).get();
            return caCert != null && caCert.getData().containsKey(InstanceCertificates.BACKUP_CA_CERT);
        });
        Secret ca = client.secrets().inNamespace(services).withName(PghaServices.BACKUP_CA_SECRET).get();
        String caPem = SecretData.value(ca, InstanceCertificates.CA_CERT);
        assertEquals(caPem, SecretData.value(client.secrets().inNamespace(ns).withName(ClusterNames.caCertificateSecret("pg")).get(),
                InstanceCertificates.BACKUP_CA_CERT), "the instances verify the backup service against its CA");
        Secret tls = client.secrets().inNamespace(services).withName(PghaServices.BACKUP_TLS_SECRET).get();
        assertEquals(InstanceCertificates.SECRET_TYPE, tls.getType());
        X509Certificate cert = ServerIdentity.certificates(SecretData.value(tls, InstanceCertificates.CERT)).get(0);
        X509Certificate caCertificate = ServerIdentity.certificates(caPem).get(0);
        cert.verify(caCertificate.getPublicKey());
        assertEquals(List.of("pgha-backup", "pgha-backup.pgha-system", "pgha-backup.pgha-system.svc", "pgha-backup.pgha-system.svc.cluster.local"),
                ServerIdentity.dnsNames(cert));
        assertEquals(caPem, SecretData.value(tls, InstanceCertificates.CA_CERT));
        // the key matches the certificate: what the backup Deployment serves is usable
        java.security.Signature sign = java.security.Signature.getInstance("SHA256withECDSA");
        sign.initSign(CertificateIssuer.privateKey(SecretData.value(tls, InstanceCertificates.KEY)));
        sign.update(new byte[] {1});
        byte[] signature = sign.sign();
        sign.initVerify(cert.getPublicKey());
        sign.update(new byte[] {1});
        assertTrue(sign.verify(signature));
        // the instances' openssl (wal-push.sh runs s_client with -verify_hostname against backup-ca.crt) accepts it
        // as a server certificate for the name archive_command calls
        Path dir = TempDirectories.deletedAtExit("pgha-backup-tls");
        Files.writeString(dir.resolve("ca.crt"), caPem);
        Files.writeString(dir.resolve("tls.crt"), SecretData.value(tls, InstanceCertificates.CERT));
        String host = new PghaServices(services, true).backupHost();
        Process verify = new ProcessBuilder("openssl", "verify", "-CAfile", "ca.crt", "-purpose", "sslserver", "-verify_hostname", host,
                "tls.crt").directory(dir.toFile()).redirectErrorStream(true).start();
        String verified = new String(verify.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertEquals(0, verify.waitFor(), verified);
        assertEquals("tls.crt: OK", verified.strip());

        // a certificate whose renewal is due (a fifth of its lifetime left) is replaced at the next pass, under the same CA
        CertificateIssuer.Issued authority = new CertificateIssuer.Issued(caCertificate,
                CertificateIssuer.privateKey(SecretData.value(ca, InstanceCertificates.CA_KEY)));
        CertificateIssuer.Issued expiring = new CertificateIssuer(new java.security.SecureRandom()).server(authority,
                ServerIdentity.dnsNames(cert), java.time.Instant.now(), Duration.ofSeconds(75));
        tls.getData().put(InstanceCertificates.CERT, java.util.Base64.getEncoder().encodeToString(expiring.certificatePem().getBytes()));
        client.resource(tls).update();
        triggerPassAndWait(ns);
        X509Certificate renewed = ServerIdentity.certificates(SecretData.value(
                client.secrets().inNamespace(services).withName(PghaServices.BACKUP_TLS_SECRET).get(), InstanceCertificates.CERT)).get(0);
        assertNotEquals(expiring.certificate().getSerialNumber(), renewed.getSerialNumber());
        assertTrue(renewed.getNotAfter().toInstant().isAfter(java.time.Instant.now().plus(Duration.ofDays(80))), renewed.getNotAfter().toString());
        renewed.verify(caCertificate.getPublicKey());
        assertEquals(ca.getMetadata().getResourceVersion(),
                client.secrets().inNamespace(services).withName(PghaServices.BACKUP_CA_SECRET).get().getMetadata().getResourceVersion(),
                "the CA is made once");
    }

    @Test
    void secretsAreNeverRegeneratedNorOverwritten() {
        String ns = "secrets";
        apply(ns);
        await().atMost(WAIT).until(() -> passwords(ns).size() == 4);
        Map<String, String> passwords = passwords(ns);
        assertEquals(4, Set.copyOf(passwords.values()).size());

        // an administrator rotates the application password; a spec change and more passes follow
        Secret app = client.secrets().inNamespace(ns).withName("pg-app").get();
        app.getData().put(SecretData.PASSWORD, java.util.Base64.getEncoder().encodeToString("rotated".getBytes()));
        client.resource(app).update();
        scale(ns, 4);
        await().atMost(WAIT).until(() -> pods(ns).size() == 4);
        triggerPassAndWait(ns);
        Map<String, String> after = passwords(ns);
        assertEquals("rotated", after.get("pg-app"));
        after.remove("pg-app");
        passwords.remove("pg-app");
        assertEquals(passwords, after);
    }

    @Test
    void newPodSpecRollsOutToStandbysFirstThenThePrimaryAfterASwitchover() {
        String ns = "rollout";
        apply(ns);
        await().atMost(WAIT).until(() -> pods(ns).size() == 3);
        pods(ns).forEach(p -> markReady(ns, p.getMetadata().getName()));
        awaitStatus(ns, c -> ClusterPhase.READY.equals(c.getStatus().phase));
        Map<String, String> uids = uids(ns);

        edit(ns, c -> c.getSpec().postgres.image = "postgres:15.9");
        // standbys are recreated one at a time, each once every instance is ready again; the primary stays
        for (int round = 0; round < 2; round++) {
            await().atMost(WAIT).until(() -> pods(ns).stream().anyMatch(p -> !InstancePods.ready(p)));
            await().atMost(WAIT).until(() -> pods(ns).size() == 3);
            assertEquals(1, pods(ns).stream().filter(p -> !InstancePods.ready(p)).count(), "one standby at a time");
            pods(ns).stream().filter(p -> !InstancePods.ready(p)).forEach(p -> markReady(ns, p.getMetadata().getName()));
        }
        await().atMost(WAIT).until(() -> pods(ns).stream().filter(p -> image(p).equals("postgres:15.9")).count() == 2);
        assertEquals(uids.get("pg-1"), uids(ns).get("pg-1"), "the primary is not restarted in place");
        assertEquals("postgres:15", image(client.pods().inNamespace(ns).withName("pg-1").get()));

        // the primary last: a switchover request for the monitor, which promotes pg-2
        await().atMost(WAIT).until(() -> "pg-2".equals(get(ns).getMetadata().getAnnotations().get(Labels.SWITCHOVER_ANNOTATION)));
        playMonitor(ns, "pg-2", 2);
        await().atMost(WAIT).until(() -> "primary".equals(roles(ns).get("pg-2")));
        await().atMost(WAIT).until(() -> pods(ns).stream().anyMatch(p -> !InstancePods.ready(p)));
        markReady(ns, "pg-1");
        await().atMost(WAIT).until(() -> pods(ns).stream().allMatch(p -> image(p).equals("postgres:15.9")));
        assertTrue(pods(ns).stream().allMatch(p -> p.getMetadata().getDeletionTimestamp() == null));
        assertEquals(Map.of("pg-1", "standby", "pg-2", "primary", "pg-3", "standby"), roles(ns));
        PostgresCluster done = awaitStatus(ns, x -> ClusterPhase.READY.equals(x.getStatus().phase));
        assertEquals(2L, done.getStatus().observedGeneration);
    }

    @Test
    void loweringMaxConnectionsRestartsThePrimaryFirstThenTheStandbys() {
        String ns = "lower";
        apply(ns);
        await().atMost(WAIT).until(() -> pods(ns).size() == 3);
        pods(ns).forEach(p -> markReady(ns, p.getMetadata().getName()));
        awaitStatus(ns, c -> ClusterPhase.READY.equals(c.getStatus().phase));
        Map<String, String> uids = uids(ns);

        edit(ns, c -> c.getSpec().parameters.put("max_connections", "100"));
        // restarted in place, not switched over; the standbys wait until it runs with the lower value
        await().atMost(WAIT).until(() -> {
            Map<String, String> now = uids(ns);
            return now.get("pg-1") != null && !uids.get("pg-1").equals(now.get("pg-1")) && "primary".equals(roles(ns).get("pg-1"));
        });
        assertEquals(uids.get("pg-2"), uids(ns).get("pg-2"), "standbys wait until the primary runs with the lower value");
        assertEquals(uids.get("pg-3"), uids(ns).get("pg-3"));
        for (int round = 0; round < 3; round++) {
            await().atMost(WAIT).until(() -> pods(ns).size() == 3 && pods(ns).stream().anyMatch(p -> !InstancePods.ready(p)));
            pods(ns).stream().filter(p -> !InstancePods.ready(p)).forEach(p -> markReady(ns, p.getMetadata().getName()));
        }
        await().atMost(WAIT).until(() -> pods(ns).stream().allMatch(p -> p.getMetadata().getAnnotations()
                .get(InstancePod.RESTART_SETTINGS_ANNOTATION).contains("max_connections=100")));
        assertTrue(uids(ns).entrySet().stream().noneMatch(e -> e.getValue().equals(uids.get(e.getKey()))));
        assertFalse(get(ns).getMetadata().getAnnotations().containsKey(Labels.SWITCHOVER_ANNOTATION));
        awaitStatus(ns, x -> ClusterPhase.READY.equals(x.getStatus().phase));
    }

    // ---- helpers

    private static String image(Pod pod) {
        return pod.getSpec().getContainers().get(0).getImage();
    }

    private Map<String, String> uids(String ns) {
        return pods(ns).stream().collect(Collectors.toMap(p -> p.getMetadata().getName(), p -> p.getMetadata().getUid()));
    }

    private PostgresCluster apply(String ns) {
        if (client.namespaces().withName(ns).get() == null) {
            client.namespaces().resource(new io.fabric8.kubernetes.api.model.NamespaceBuilder().withNewMetadata().withName(ns)
                    .endMetadata().build()).create();
        }
        PostgresCluster cluster = Clusters.example(ns);
        cluster.getMetadata().setUid(null);
        cluster.getMetadata().setGeneration(null);
        return client.resource(cluster).create();
    }

    /** Ready, and the pass after the first primary was recorded closed the initdb window. */
    private void awaitSettled(String ns) {
        awaitStatus(ns, c -> ClusterPhase.READY.equals(c.getStatus().phase));
        await().atMost(WAIT).until(() -> "".equals(client.configMaps().inNamespace(ns).withName(ClusterNames.configMap("pg")).get()
                .getData().get(ClusterConfigMap.FIRST_PRIMARY)));
    }

    private Deployment routerDeployment(String ns) {
        return client.apps().deployments().inNamespace(ns).withName(ClusterNames.routerDeployment("pg")).get();
    }

    private PostgresCluster get(String ns) {
        return client.resources(PostgresCluster.class).inNamespace(ns).withName("pg").get();
    }

    private PostgresCluster awaitStatus(String ns, java.util.function.Predicate<PostgresCluster> condition) {
        return await().atMost(WAIT).until(() -> get(ns), c -> c.getStatus() != null && condition.test(c));
    }

    private void scale(String ns, int instances) {
        edit(ns, c -> c.getSpec().instances = instances);
    }

    /** Changes the cluster as a user would. */
    private void edit(String ns, java.util.function.Consumer<PostgresCluster> change) {
        // as kubectl edit does: read, change, write; again on a conflict with the operator's status writes
        await().atMost(WAIT).ignoreExceptionsInstanceOf(io.fabric8.kubernetes.client.KubernetesClientException.class).until(() -> {
            PostgresCluster c = get(ns);
            change.accept(c);
            client.resource(c).update();
            return true;
        });
    }

    /** What the monitor writes after a failover: status.topology, through a merge patch of the status. */
    private void playMonitor(String ns, String primary, int timeline) {
        client.resources(PostgresCluster.class).inNamespace(ns).withName("pg").subresource("status")
                .patch(PatchContext.of(PatchType.JSON_MERGE),
                        "{\"status\":{\"topology\":{\"currentPrimary\":\"" + primary + "\",\"timeline\":" + timeline + "}}}");
    }

    private void markReady(String ns, String pod) {
        Pod p = client.pods().inNamespace(ns).withName(pod).get();
        p.setStatus(new PodStatusBuilder().withPhase("Running")
                .addNewCondition().withType("Ready").withStatus("True").endCondition().build());
        client.pods().resource(p).updateStatus();
    }

    /** Starts a pass (a metadata-only change of the cluster) and waits until two more passes ran. */
    private void triggerPassAndWait(String ns) {
        double before = passes(ns);
        edit(ns, c -> c.getMetadata().getAnnotations().put("test.pgha.io/nudge", Double.toString(before)));
        await().atMost(WAIT).until(() -> passes(ns) >= before + 1);
        edit(ns, c -> c.getMetadata().getAnnotations().put("test.pgha.io/nudge", "again-" + before));
        await().atMost(WAIT).until(() -> passes(ns) >= before + 2);
    }

    /** Passes over the cluster in {@code ns} so far. */
    private double passes(String ns) {
        return registry.find(PostgresClusterReconciler.PASSES_METRIC).tag("namespace", ns).counters().stream().mapToDouble(Counter::count).sum();
    }

    /** Every object in the namespace with its resourceVersion, and the cluster's status. */
    private Map<String, String> resourceVersions(String ns) {
        Map<String, String> versions = objectVersions(ns);
        versions.put("status", client.getKubernetesSerialization().asJson(get(ns).getStatus()));
        return versions;
    }

    /** Every object in the namespace with its resourceVersion. */
    private Map<String, String> objectVersions(String ns) {
        Map<String, String> versions = new TreeMap<>();
        Stream.of(client.pods().inNamespace(ns).list().getItems(), client.persistentVolumeClaims().inNamespace(ns).list().getItems(),
                        client.secrets().inNamespace(ns).list().getItems(), client.configMaps().inNamespace(ns).list().getItems(),
                        client.services().inNamespace(ns).list().getItems(), client.apps().deployments().inNamespace(ns).list().getItems(),
                        client.policy().v1().podDisruptionBudget().inNamespace(ns).list().getItems(),
                        client.serviceAccounts().inNamespace(ns).list().getItems(), client.rbac().roles().inNamespace(ns).list().getItems(),
                        client.rbac().roleBindings().inNamespace(ns).list().getItems())
                .flatMap(List::stream)
                .forEach(o -> versions.put(((HasMetadata) o).getKind() + "/" + ((HasMetadata) o).getMetadata().getName(),
                        ((HasMetadata) o).getMetadata().getResourceVersion()));
        return versions;
    }

    private List<Pod> pods(String ns) {
        return client.pods().inNamespace(ns).withLabel(Labels.COMPONENT, Labels.COMPONENT_INSTANCE).list().getItems();
    }

    private List<Secret> secrets(String ns) {
        return client.secrets().inNamespace(ns).list().getItems();
    }

    /** The credential Secrets' passwords (the CA and certificate Secrets hold none). */
    private Map<String, String> passwords(String ns) {
        return secrets(ns).stream().filter(s -> s.getData() != null && s.getData().containsKey(SecretData.PASSWORD)).collect(Collectors.toMap(s -> s.getMetadata().getName(),
                s -> SecretData.value(s, SecretData.PASSWORD), (a, b) -> a, TreeMap::new));
    }

    private Map<String, String> roles(String ns) {
        return pods(ns).stream().collect(Collectors.toMap(p -> p.getMetadata().getName(),
                p -> p.getMetadata().getLabels().get(Labels.ROLE), (a, b) -> a, TreeMap::new));
    }

    private static List<String> names(List<? extends HasMetadata> objects) {
        return objects.stream().map(o -> o.getMetadata().getName()).sorted().toList();
    }

    private static void assertOwnedBy(PostgresCluster cluster, HasMetadata object) {
        var owner = object.getMetadata().getOwnerReferences().get(0);
        assertEquals(cluster.getMetadata().getUid(), owner.getUid());
        assertEquals("PostgresCluster", owner.getKind());
        assertTrue(owner.getController());
        assertFalse(object.getMetadata().getLabels().isEmpty());
    }
}
