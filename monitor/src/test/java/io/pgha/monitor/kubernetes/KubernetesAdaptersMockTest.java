package io.pgha.monitor.kubernetes;

import io.fabric8.kubernetes.api.model.ContainerStatusBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.Watcher;
import io.fabric8.kubernetes.client.WatcherException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.pgha.api.ClusterNames;
import io.pgha.api.Labels;
import io.pgha.api.v1.Condition;
import io.pgha.api.v1.ConditionTypes;
import io.pgha.api.v1.Conditions;
import io.pgha.api.v1.cluster.PostgresCluster;
import io.pgha.api.v1.cluster.PostgresClusterStatus;
import io.pgha.api.v1.cluster.ProvisioningStatus;
import io.pgha.api.v1.cluster.TopologyStatus;
import io.pgha.local.testing.ManualClock;
import io.pgha.monitor.core.LeaseTerm;
import io.pgha.monitor.service.ClusterSource;
import io.pgha.monitor.service.Fencer;
import io.pgha.monitor.service.InstanceDirectory;
import io.pgha.monitor.service.LeaderElector;
import io.pgha.monitor.service.RoleMarker;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The Kubernetes side of the monitor against the fabric8 mock API server in CRUD mode: the Lease,
 * the role labels the -rw service selects on, the topology status patch, pod readiness and the
 * fencer. Each test works in a namespace of its own.
 */
@EnableKubernetesMockClient(crud = true)
class KubernetesAdaptersMockTest {
    static KubernetesClient client;
    static KubernetesMockServer server;

    private static final Duration LEASE = Duration.ofSeconds(5);
    /** The lease term the status writes of tests about other things are made under. */
    private static final LeaseTerm TERM = new LeaseTerm("monitor-a", 0);
    private final ManualClock clock = new ManualClock(Instant.parse("2026-11-25T12:00:00Z"));
    private String ns;

    @BeforeAll
    static void crd() throws IOException {
        MockApi.installCrd(client);
    }

    @BeforeEach
    void namespace() {
        ns = "t-" + UUID.randomUUID().toString().substring(0, 8);
    }

    // ---------------------------------------------------------------- lease

    private KubernetesLease lease(String identity) {
        return new KubernetesLease(client, ns, ClusterNames.monitorLease("pg"), identity, LEASE, clock, clock::nanos);
    }

    private Lease stored() {
        return client.resources(Lease.class).inNamespace(ns).withName(ClusterNames.monitorLease("pg")).get();
    }

    @Test
    void oneHolderAtATimeAndTheOtherTakesOverOnlyAfterExpiry() {
        KubernetesLease a = lease("monitor-a");
        KubernetesLease b = lease("monitor-b");
        assertTrue(a.tryAcquireOrRenew().isPresent());
        assertTrue(b.tryAcquireOrRenew().isEmpty());
        assertEquals(Optional.of("monitor-a"), b.holder());
        Lease l = stored();
        assertEquals("monitor-a", l.getSpec().getHolderIdentity());
        assertEquals(5, l.getSpec().getLeaseDurationSeconds());
        assertEquals(clock.instant(), l.getSpec().getRenewTime().toInstant());

        // both try every 250 ms for 10 s: a renews, b never gets it
        for (int i = 0; i < 40; i++) {
            clock.advance(Duration.ofMillis(250));
            assertTrue(a.tryAcquireOrRenew().isPresent());
            assertTrue(b.tryAcquireOrRenew().isEmpty());
        }
        assertEquals(0, stored().getSpec().getLeaseTransitions());

        // a stops renewing: not a millisecond before the lease expired does b get it
        Instant lastRenewal = clock.instant();
        clock.advance(LEASE.minusMillis(1));
        assertTrue(b.tryAcquireOrRenew().isEmpty(), "not expired yet");
        assertEquals(Optional.of("monitor-a"), b.holder());
        clock.advance(Duration.ofMillis(1));
        assertTrue(b.tryAcquireOrRenew().isPresent(), "expired: b takes it");
        assertTrue(a.tryAcquireOrRenew().isEmpty(), "a, back, finds it taken");
        l = stored();
        assertEquals("monitor-b", l.getSpec().getHolderIdentity());
        assertEquals(1, l.getSpec().getLeaseTransitions());
        assertEquals(lastRenewal.plus(LEASE), l.getSpec().getAcquireTime().toInstant());
    }

    @Test
    void aWriteOnAStaleReadLosesAndSoDoesASecondCreate() {
        KubernetesLease a = lease("monitor-a");
        KubernetesLease b = lease("monitor-b");
        // both saw no lease; a creates it first, b's create is a conflict
        assertTrue(a.tryAcquireOrRenew(null).isPresent());
        assertTrue(b.tryAcquireOrRenew(null).isEmpty());
        assertEquals("monitor-a", stored().getSpec().getHolderIdentity());

        // b has seen this version; a then stalls past the lease; both read it, a renews first,
        // and b's update carries the old resourceVersion
        assertEquals(Optional.of("monitor-a"), b.holder());
        clock.advance(LEASE.plusSeconds(1));
        Lease read = stored();
        assertTrue(a.tryAcquireOrRenew(read).isPresent());
        assertNotEquals(read.getMetadata().getResourceVersion(), stored().getMetadata().getResourceVersion());
        assertTrue(b.tryAcquireOrRenew(read).isEmpty(), "409 on the resourceVersion: lost, not taken");
        assertEquals("monitor-a", stored().getSpec().getHolderIdentity());
    }

    @Test
    void expiryIsMeasuredOnTheObserversClockNotTheHoldersRenewTime() {
        // the holder's clock is an hour behind: its renewTime always looks long past
        ManualClock behind = new ManualClock(clock.instant().minus(Duration.ofHours(1)));
        KubernetesLease a = new KubernetesLease(client, ns, ClusterNames.monitorLease("pg"), "monitor-a", LEASE, behind, behind::nanos);
        KubernetesLease b = lease("monitor-b");
        assertTrue(a.tryAcquireOrRenew().isPresent());
        for (int i = 0; i < 40; i++) {
            clock.advance(Duration.ofMillis(250));
            behind.advance(Duration.ofMillis(250));
            assertTrue(a.tryAcquireOrRenew().isPresent());
            assertTrue(b.tryAcquireOrRenew().isEmpty(), "a renews: b must not take it, whatever renewTime says");
        }
        clock.advance(LEASE);
        assertTrue(b.tryAcquireOrRenew().isPresent(), "unchanged for the lease duration on b's clock: b takes it");
    }

    /** b's wall clock jumps an hour ahead (NTP, an operator): only its monotonic clock measures expiry. */
    @Test
    void aWallClockSteppedForwardsDoesNotHandTheLeaseOver() {
        ManualClock wall = new ManualClock(clock.instant());
        ManualClock monotonic = new ManualClock(Instant.EPOCH);
        KubernetesLease a = lease("monitor-a");
        KubernetesLease b = new KubernetesLease(client, ns, ClusterNames.monitorLease("pg"), "monitor-b", LEASE, wall, monotonic::nanos);
        assertTrue(a.tryAcquireOrRenew().isPresent());
        assertTrue(b.tryAcquireOrRenew().isEmpty());
        wall.advance(Duration.ofHours(1));
        assertTrue(b.tryAcquireOrRenew().isEmpty(), "an hour on b's wall clock, no time on its monotonic one");
        monotonic.advance(LEASE);
        assertTrue(b.tryAcquireOrRenew().isPresent(), "no renewal seen for the lease duration: b takes it");
    }

    @Test
    void theElectorActsOnlyWhileItsRenewalIsFreshAndReleaseHandsOver() {
        LeaderElector a = new LeaderElector(lease("monitor-a"), "monitor-a", LEASE, clock::nanos);
        LeaderElector b = new LeaderElector(lease("monitor-b"), "monitor-b", LEASE, clock::nanos);
        assertTrue(a.renew());
        assertFalse(b.renew());
        assertEquals("monitor-a", b.holder());
        clock.advance(LEASE.multipliedBy(4).dividedBy(5));
        assertFalse(a.isLeader(), "losing the lease stops all actions: a margin before it expires");
        assertFalse(b.renew());
        a.release();
        assertNull(stored().getSpec().getHolderIdentity());
        assertTrue(b.renew(), "released: b takes it at once");
        assertFalse(a.renew());
    }

    // ---------------------------------------------------------------- role labels and fencing

    private Pod pod(String name, String role, String ip, int port, boolean ready) {
        return MockApi.pod(client, ns, name, role, ip, port, ready);
    }

    private List<String> readWriteEndpoints() {
        return MockApi.readWriteEndpoints(client, ns);
    }

    private Map<String, String> resourceVersions() {
        Map<String, String> versions = new LinkedHashMap<>();
        client.pods().inNamespace(ns).list().getItems().forEach(p -> versions.put(p.getMetadata().getName(),
                p.getMetadata().getResourceVersion()));
        return versions;
    }

    @Test
    void rolesMoveTheReadWriteServiceToTheNewPrimaryAndFencingTakesTheOldOneOut() {
        pod("pg-1", Labels.ROLE_PRIMARY, "10.0.0.1", 5432, true);
        pod("pg-2", Labels.ROLE_STANDBY, "10.0.0.2", 5432, true);
        pod("pg-3", Labels.ROLE_STANDBY, "10.0.0.3", 5432, true);
        List<String> names = List.of("pg-1", "pg-2", "pg-3");
        KubernetesPlatform platform = new KubernetesPlatform(client, Optional.of(ns), clock);
        RoleMarker roles = platform.roles(ns, "pg");
        roles.mark("pg-1", names, Set.of());
        assertEquals(List.of("pg-1"), readWriteEndpoints());

        // the failover fences pg-1 (it answers: the fence waits for its pod to be gone) ...
        var fenced = platform.fencer(ns, "pg").fence("pg-1", false, true, null);
        assertTrue(fenced.ok(), fenced.detail());
        assertEquals(List.of(), readWriteEndpoints(), "between fencing and promotion nobody takes writes");
        assertNull(client.pods().inNamespace(ns).withName("pg-1").get());
        // ... the provisioner recreates it labelled standby (fenced), and pg-2 is promoted
        pod("pg-1", Labels.role("pg-1", "pg-1", Set.of("pg-1")), "10.0.0.9", 5432, false);
        roles.mark("pg-2", names, Set.of("pg-1"));
        assertEquals(List.of("pg-2"), readWriteEndpoints());
        assertEquals(Labels.ROLE_STANDBY, client.pods().inNamespace(ns).withName("pg-1").get().getMetadata().getLabels().get(Labels.ROLE));

        // marking again changes nothing: no pod is written
        Map<String, String> before = resourceVersions();
        roles.mark("pg-2", names, Set.of("pg-1"));
        assertEquals(before, resourceVersions());

        // a switchover back: demoted and promoted, still exactly one pod selected
        roles.mark("pg-3", names, Set.of());
        assertEquals(List.of("pg-3"), readWriteEndpoints());
    }

    @Test
    void anUnreachablePrimaryIsFencedByLabelAndDeletionRequest() {
        pod("pg-1", Labels.ROLE_PRIMARY, "10.0.0.1", 5432, false);
        var fenced = new KubernetesPlatform(client, Optional.of(ns), clock).fencer(ns, "pg").fence("pg-1", false, false, null);
        assertTrue(fenced.ok(), fenced.detail());
        assertEquals("out of the read-write service, pod deleted", fenced.detail(), "its kubelet confirmed: no wait");
        assertEquals(List.of(), readWriteEndpoints());
    }

    @Test
    void anUnreachablePrimaryWhoseKubeletNeverConfirmsIsWaitedForBeforeThePromotion() throws Exception {
        // the pod stays terminating: its node is cut off, so the deletion is never carried out
        MockApi.pod(client, ns, "pg-1", Labels.ROLE_PRIMARY, "10.0.0.1", 5432, false, "test.pgha.io/kubelet");
        Duration wait = Duration.ofSeconds(2);
        long start = System.nanoTime();
        var fence = CompletableFuture.supplyAsync(() -> new KubernetesFencer(client, ns, wait).fence("pg-1", false, false, null));
        await().atMost(10, TimeUnit.SECONDS).until(() -> client.pods().inNamespace(ns).withName("pg-1").get()
                .getMetadata().getDeletionTimestamp() != null);
        assertEquals(List.of(), readWriteEndpoints(), "out of the -rw service at once");
        assertFalse(fence.isDone(), "no promotion before a primary cut off from the API server has stopped itself");
        var result = fence.get(30, TimeUnit.SECONDS);
        assertTrue(Duration.ofNanos(System.nanoTime() - start).compareTo(wait) >= 0);
        assertTrue(result.ok(), result.detail());
        assertTrue(result.detail().contains("not confirmed within 2 s"), result.detail());
    }

    @Test
    void aFenceInterruptedWhileThePodIsGoingIsNotDoneAndKeepsTheInterrupt() throws Exception {
        // the kubelet never confirms, so the fence is still waiting when the monitor shuts down
        MockApi.pod(client, ns, "pg-1", Labels.ROLE_PRIMARY, "10.0.0.1", 5432, true, "test.pgha.io/kubelet");
        var result = new CompletableFuture<Fencer.Result>();
        var interruptKept = new CompletableFuture<Boolean>();
        Thread fencing = new Thread(() -> {
            result.complete(new KubernetesFencer(client, ns).fence("pg-1", true, true, null));
            interruptKept.complete(Thread.currentThread().isInterrupted());
        }, "fence");
        // a failed assertion below must not leave it holding the test JVM for the fence's 90 s
        fencing.setDaemon(true);
        fencing.start();
        // interrupted in its wait for the pod to go, once the deletion was requested: not during that
        // request, which the Kubernetes client ends with an exception of its own
        await().atMost(10, TimeUnit.SECONDS).until(() -> client.pods().inNamespace(ns).withName("pg-1").get()
                .getMetadata().getDeletionTimestamp() != null
                && Arrays.stream(fencing.getStackTrace()).anyMatch(f -> f.getClassName().equals(CountDownLatch.class.getName())));
        assertFalse(result.isDone(), "a planned fence waits for the pod to be gone");
        fencing.interrupt();
        var fenced = result.get(10, TimeUnit.SECONDS);
        assertFalse(fenced.ok(), "an interrupted fence is not a done fence: " + fenced.detail());
        assertFalse(fenced.handedOver(), fenced.detail());
        assertEquals("out of the read-write service, interrupted while pod pg-1 was deleted", fenced.detail());
        assertTrue(interruptKept.get(10, TimeUnit.SECONDS), "the caller still sees the interrupt");
        assertEquals(List.of(), readWriteEndpoints(), "it left the -rw service before the wait");
    }

    @ParameterizedTest
    @CsvSource({"0, true", "137, false"})
    void aCleanFenceReportsAHandOverOnlyWhenPostgresExitedCleanly(int exitCode, boolean handedOver) throws Exception {
        MockApi.pod(client, ns, "pg-1", Labels.ROLE_PRIMARY, "10.0.0.1", 5432, true, "test.pgha.io/kubelet");
        var fence = CompletableFuture.supplyAsync(() -> new KubernetesPlatform(client, Optional.of(ns), clock)
                .fencer(ns, "pg").fence("pg-1", true, true, null));
        // the kubelet: the pod is marked deleted; the container stops, its exit code is reported, the pod goes
        await().atMost(10, TimeUnit.SECONDS).until(() -> client.pods().inNamespace(ns).withName("pg-1").get()
                .getMetadata().getDeletionTimestamp() != null);
        assertEquals(List.of(), readWriteEndpoints(), "out of the -rw service before it stops");
        assertFalse(fence.isDone(), "a planned fence waits for the pod to be gone");
        terminate("pg-1", exitCode);
        var result = fence.get(30, TimeUnit.SECONDS);
        assertTrue(result.ok(), result.detail());
        assertEquals(handedOver, result.handedOver(), result.detail());
        assertNull(result.finalLsn());
    }

    @Test
    void aPodThatGoesTheMomentItIsDeletedStillShowsTheFenceItsExitCode() throws Exception {
        MockApi.pod(client, ns, "pg-1", Labels.ROLE_PRIMARY, "10.0.0.1", 5432, true, "test.pgha.io/kubelet");
        // a kubelet that stops the container and lets the pod go as soon as it is marked deleted
        try (var kubelet = client.pods().inNamespace(ns).withName("pg-1").watch(new Watcher<Pod>() {
            @Override
            public void eventReceived(Action action, Pod pod) {
                if (action == Action.MODIFIED && pod.getMetadata().getDeletionTimestamp() != null
                        && !pod.getMetadata().getFinalizers().isEmpty()) {
                    terminate("pg-1", 0);
                }
            }

            @Override
            public void onClose(WatcherException cause) {
            }
        })) {
            var result = new KubernetesPlatform(client, Optional.of(ns), clock).fencer(ns, "pg").fence("pg-1", true, true, null);
            assertTrue(result.ok(), result.detail());
            assertTrue(result.handedOver(), "the exit code shown just before the pod went: " + result.detail());
        }
    }

    /** What the kubelet does when a deleted pod's container has stopped: it reports the exit code, and the pod goes. */
    private void terminate(String pod, int exitCode) {
        client.pods().inNamespace(ns).withName(pod).editStatus(p -> {
            p.getStatus().setContainerStatuses(List.of(new ContainerStatusBuilder().withName(ClusterNames.INSTANCE_CONTAINER)
                    .withNewState().withNewTerminated().withExitCode(exitCode).endTerminated().endState().build()));
            return p;
        });
        client.pods().inNamespace(ns).withName(pod).edit(p -> {
            p.getMetadata().getFinalizers().clear();
            return p;
        });
    }

    // ---------------------------------------------------------------- addressing, readiness, credentials

    @Test
    void instancesAreTheirPodsIpAndPortAndReadyByTheirCondition() {
        pod("pg-1", Labels.ROLE_PRIMARY, "10.0.0.1", 6543, false);
        pod("pg-2", Labels.ROLE_STANDBY, "10.0.0.2", 5432, true);
        pod("pg-3", Labels.ROLE_STANDBY, "", 5432, false);
        InstanceDirectory d = new KubernetesPlatform(client, Optional.of(ns), clock).instances(ns, "pg");
        Map<String, InstanceDirectory.Placement> placed = d.locate(Map.of("pg-1", 1, "pg-2", 2, "pg-3", 3, "pg-4", 4));
        assertEquals(new InstanceDirectory.Placement(new InstanceDirectory.Endpoint("10.0.0.1", 6543), false), placed.get("pg-1"),
                "answers at its pod IP, but its pod is not ready");
        assertEquals(new InstanceDirectory.Placement(new InstanceDirectory.Endpoint("10.0.0.2", 5432), true), placed.get("pg-2"));
        assertEquals(new InstanceDirectory.Placement(null, false), placed.get("pg-3"), "no IP yet");
        assertEquals(new InstanceDirectory.Placement(null, false), placed.get("pg-4"), "no pod");

        assertTrue(d.superuser().isEmpty(), "no secret yet");
        client.resource(new SecretBuilder().withNewMetadata().withName(ClusterNames.superuserSecret("pg")).withNamespace(ns)
                .endMetadata().withType("kubernetes.io/basic-auth")
                .withData(Map.of("username", b64("postgres"), "password", b64("s3cret"))).build()).create();
        assertTrue(d.superuser().isEmpty(), "no CA certificate yet: no password goes to an unverified server");
        client.resource(new SecretBuilder().withNewMetadata().withName(ClusterNames.caCertificateSecret("pg")).withNamespace(ns)
                .endMetadata().withData(Map.of("ca.crt", b64("PEM"))).build()).create();
        assertEquals(new InstanceDirectory.Credentials("postgres", "s3cret", "PEM"), d.superuser().orElseThrow());
        assertEquals("host=10.0.0.2 port=5432 user=streaming_replica passfile=/var/run/postgresql/pgpass application_name=pg-3"
                + " sslmode=verify-ca sslrootcert=/var/run/postgresql/tls/ca.crt",
                d.replicationConninfo("pg-3", new InstanceDirectory.Endpoint("10.0.0.2", 5432)).toString());
    }

    private static String b64(String s) {
        return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
    }

    // ---------------------------------------------------------------- status

    private PostgresCluster cluster() {
        PostgresCluster c = new PostgresCluster();
        c.getMetadata().setName("pg");
        c.getMetadata().setNamespace(ns);
        return client.resource(c).create();
    }

    /** What the provisioner writes: phase, provisioning and its Ready condition. */
    private void provisionerWrites(String message) {
        PostgresCluster now = client.resources(PostgresCluster.class).inNamespace(ns).withName("pg").get();
        PostgresClusterStatus s = StatusPatch.copy(now.getStatus());
        s.phase = "Ready";
        s.provisioning = new ProvisioningStatus();
        s.provisioning.instances.add(new ProvisioningStatus.Instance("pg-1", 1, ProvisioningStatus.Instance.CREATED_BY_INITDB));
        s.provisioning.message = message;
        s.conditions = Conditions.with(s.conditions, new Condition(ConditionTypes.READY, Condition.TRUE, "ClusterReady", message),
                Clock.systemUTC());
        client.resources(PostgresCluster.class).inNamespace(ns).withName("pg").subresource("status")
                .patch(PatchContext.of(PatchType.JSON_MERGE), StatusPatch.JSON.asJson(Map.of("status", s)));
    }

    private static void primary(PostgresClusterStatus s, String primary) {
        if (s.topology == null) {
            s.topology = new TopologyStatus();
        }
        s.topology.currentPrimary = primary;
        s.topology.timeline = 2;
        s.conditions = Conditions.with(s.conditions, new Condition(ConditionTypes.DEGRADED, Condition.FALSE, "AllHealthy", "ok"),
                Clock.systemUTC());
    }

    @Test
    void theTopologyPatchLeavesTheProvisionersStatusAloneAndANoChangeWriteIsNoRequest() throws InterruptedException {
        cluster();
        provisionerWrites("3 instances ready");
        ClusterSource clusters = new KubernetesPlatform(client, Optional.of(ns), clock).clusters();
        assertEquals(List.of("pg"), clusters.list().stream().map(c -> c.getMetadata().getName()).toList());

        PostgresCluster written = clusters.updateStatus(ns, "pg", TERM, s -> primary(s, "pg-2")).orElseThrow();
        PostgresCluster read = clusters.get(ns, "pg").orElseThrow();
        assertEquals(written.getMetadata().getResourceVersion(), read.getMetadata().getResourceVersion());
        assertEquals("pg-2", read.getStatus().topology.currentPrimary);
        assertEquals(2, read.getStatus().topology.timeline);
        assertEquals("Ready", read.getStatus().phase);
        assertEquals("3 instances ready", read.getStatus().provisioning.message);
        assertEquals(1, read.getStatus().provisioning.instances.size());
        assertTrue(Conditions.isTrue(read.getStatus().conditions, ConditionTypes.READY), "the provisioner's condition stays");
        assertEquals(Condition.FALSE, Conditions.find(read.getStatus().conditions, ConditionTypes.DEGRADED).orElseThrow().status);

        // the same write again: nothing changed, no request, the resourceVersion stays
        int requests = server.getRequestCount();
        clusters.updateStatus(ns, "pg", TERM, s -> primary(s, "pg-2"));
        assertEquals(requests + 1, server.getRequestCount(), "one GET of the cluster as it is, and no PATCH");
        assertEquals("GET", server.getLastRequest().getMethod());
        assertEquals(read.getMetadata().getResourceVersion(),
                clusters.get(ns, "pg").orElseThrow().getMetadata().getResourceVersion());
    }

    @Test
    void aStatusWriteThatRacesTheProvisionerIsComputedAgainAndKeepsBoth() {
        cluster();
        provisionerWrites("first");
        ClusterSource clusters = new KubernetesPlatform(client, Optional.of(ns), clock).clusters();
        AtomicInteger attempts = new AtomicInteger();
        clusters.updateStatus(ns, "pg", TERM, s -> {
            if (attempts.incrementAndGet() == 1) {
                // between the monitor's read and its patch, the provisioner writes
                provisionerWrites("second");
            }
            primary(s, "pg-3");
        });
        assertEquals(2, attempts.get(), "the first patch failed its resourceVersion test and was computed again");
        PostgresClusterStatus s = clusters.get(ns, "pg").orElseThrow().getStatus();
        assertEquals("pg-3", s.topology.currentPrimary);
        assertEquals("second", s.provisioning.message);
        assertTrue(Conditions.isTrue(s.conditions, ConditionTypes.READY));
    }

    // ---------------------------------------------------------------- writes under the lease term

    @Test
    void eachAcquisitionOfTheLeaseIsANewTerm() {
        KubernetesLease a = lease("monitor-a");
        KubernetesLease b = lease("monitor-b");
        assertEquals(Optional.of(new LeaseTerm("monitor-a", 0)), a.tryAcquireOrRenew());
        assertTrue(b.tryAcquireOrRenew().isEmpty());
        clock.advance(Duration.ofSeconds(1));
        assertEquals(Optional.of(new LeaseTerm("monitor-a", 0)), a.tryAcquireOrRenew(), "a renewal keeps the term");
        assertTrue(b.tryAcquireOrRenew().isEmpty(), "b sees the renewal and times it from now");
        clock.advance(LEASE);
        assertEquals(Optional.of(new LeaseTerm("monitor-b", 1)), b.tryAcquireOrRenew());
        b.release();
        assertEquals(Optional.of(new LeaseTerm("monitor-a", 2)), a.tryAcquireOrRenew(), "taken again after a release: a new term");
    }

    /**
     * Monitor a lost the lease while it promoted; b took it and recorded its term. a's late write
     * of the candidate it promoted is refused, and what b wrote stays.
     */
    @Test
    void aWriteUnderAnOlderTermIsRefusedAndLeavesTheSuccessorsStatus() {
        cluster();
        provisionerWrites("3 instances ready");
        ClusterSource clusters = new KubernetesPlatform(client, Optional.of(ns), clock).clusters();
        LeaseTerm a = new LeaseTerm("monitor-a", 3);
        LeaseTerm b = new LeaseTerm("monitor-b", 4);
        clusters.updateStatus(ns, "pg", a, s -> primary(s, "pg-1"));
        // b's first act as leader: record its term
        clusters.updateStatus(ns, "pg", b, s -> { });
        assertThrows(ClusterSource.LeaseLostException.class, () -> clusters.updateStatus(ns, "pg", a, s -> primary(s, "pg-2")));
        clusters.updateStatus(ns, "pg", b, s -> primary(s, "pg-3"));
        assertThrows(ClusterSource.LeaseLostException.class, () -> clusters.updateStatus(ns, "pg", a, s -> primary(s, "pg-2")));
        TopologyStatus t = clusters.get(ns, "pg").orElseThrow().getStatus().topology;
        assertEquals("pg-3", t.currentPrimary);
        assertEquals("monitor-b", t.term.holder);
        assertEquals(4L, t.term.counter);
    }

    /** b records its term between a's read and a's patch: a's patch fails and, read again, is refused. */
    @Test
    void aWriteInFlightWhenTheSuccessorRecordsItsTermIsRefused() {
        cluster();
        provisionerWrites("3 instances ready");
        ClusterSource clusters = new KubernetesPlatform(client, Optional.of(ns), clock).clusters();
        LeaseTerm a = new LeaseTerm("monitor-a", 3);
        LeaseTerm b = new LeaseTerm("monitor-b", 4);
        clusters.updateStatus(ns, "pg", a, s -> primary(s, "pg-1"));
        AtomicInteger attempts = new AtomicInteger();
        assertThrows(ClusterSource.LeaseLostException.class, () -> clusters.updateStatus(ns, "pg", a, s -> {
            if (attempts.incrementAndGet() == 1) {
                clusters.updateStatus(ns, "pg", b, x -> primary(x, "pg-3"));
            }
            primary(s, "pg-2");
        }));
        assertEquals(1, attempts.get(), "the patch failed on the resourceVersion; the read after it saw b's term and refused");
        assertEquals("pg-3", clusters.get(ns, "pg").orElseThrow().getStatus().topology.currentPrimary);
    }
}
