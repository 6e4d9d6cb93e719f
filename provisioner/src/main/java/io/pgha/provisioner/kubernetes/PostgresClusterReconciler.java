package io.pgha.provisioner.kubernetes;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.javaoperatorsdk.operator.api.config.informer.InformerEventSourceConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.javaoperatorsdk.operator.processing.event.source.EventSource;
import io.javaoperatorsdk.operator.processing.event.source.informer.InformerEventSource;
import io.pgha.api.ClusterNames;
import io.pgha.api.InstancePods;
import io.pgha.api.Labels;
import io.pgha.api.v1.cluster.PostgresCluster;
import io.pgha.api.v1.cluster.PostgresClusterStatus;
import io.pgha.api.validation.ClusterValidator;
import io.pgha.api.validation.Violation;
import io.pgha.provisioner.model.RestartSettings;
import io.pgha.provisioner.tls.CertificateIssuer;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.inject.Inject;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * The provisioner on the kubernetes platform. Every pass, whatever the event, applies the whole
 * desired state from the pure builders, in order: validate; secrets (created once); volumes and
 * pods (scale up, scale down, never the primary); role labels; ConfigMap; disruption budget;
 * services; router; then the status, patched only when it changed. Nothing here waits: when
 * instances are not ready the pass asks to be run again later. It runs only when
 * {@code pgha.platform=kubernetes} ({@link KubernetesRuntime} starts the operator).
 */
@ControllerConfiguration(name = PostgresClusterReconciler.NAME, generationAwareEventProcessing = false)
public class PostgresClusterReconciler implements Reconciler<PostgresCluster> {
    public static final String NAME = "postgrescluster";
    private static final Logger LOG = Logger.getLogger(PostgresClusterReconciler.class);
    /** Reconcile passes, as pgha_provisioner_reconciles_total. */
    public static final String PASSES_METRIC = "pgha.provisioner.reconciles";
    static final Duration NOT_READY_RECHECK = Duration.ofSeconds(5);
    static final Duration READY_RECHECK = Duration.ofSeconds(60);

    private final SecureRandom random = new SecureRandom();
    private final CertificateIssuer issuer = new CertificateIssuer(random);
    private final Clock clock = Clock.systemUTC();

    @ConfigProperty(name = "pgha.kubernetes.router-image")
    String routerImage;

    /** The namespace of pgha's own services (the monitor, the backup service): the provisioner's own. */
    @ConfigProperty(name = "pgha.kubernetes.services-namespace")
    String servicesNamespace;

    /**
     * {@code cronjob} (the knative overlay sets it): each cluster with spec.backup.schedule (and
     * spec.backup.verify) gets a CronJob that wakes the scaled-to-zero backup service at its slots
     * ({@link BackupScheduleCronJob}).
     */
    @ConfigProperty(name = "pgha.backup.trigger")
    Optional<String> backupTrigger;

    /**
     * Whether the instances and the schedule CronJobs call the backup service over HTTPS (the base)
     * or plain HTTP (false: the knative overlay, where Knative's proxy ends the connection).
     */
    @ConfigProperty(name = "pgha.kubernetes.backup-tls")
    boolean backupTls;

    @Inject
    MeterRegistry registry;

    @Override
    public List<EventSource<?, PostgresCluster>> prepareEventSources(EventSourceContext<PostgresCluster> context) {
        // pods becoming ready or failing start a pass at once; owner references map them to their cluster
        var pods = InformerEventSourceConfiguration.from(Pod.class, PostgresCluster.class)
                .withName("instances")
                .withLabelSelector(Labels.COMPONENT + "=" + Labels.COMPONENT_INSTANCE)
                .build();
        return List.of(new InformerEventSource<>(pods, context));
    }

    @Override
    public UpdateControl<PostgresCluster> reconcile(PostgresCluster cluster, Context<PostgresCluster> context) {
        registry.counter(PASSES_METRIC, "namespace", cluster.getMetadata().getNamespace(),
                "cluster", cluster.getMetadata().getName()).increment();
        KubernetesClient client = context.getClient();
        List<Violation> violations = new ArrayList<>(ClusterValidator.validate(cluster));
        violations.addAll(KubernetesScope.violations(cluster));
        if (!violations.isEmpty()) {
            LOG.warnf("%s/%s: invalid spec, nothing changed: %s", cluster.getMetadata().getNamespace(),
                    cluster.getMetadata().getName(), violations);
            patchStatus(client, cluster, ClusterStatusView.invalid(cluster, violations, clock));
            return UpdateControl.noUpdate();
        }
        Applier applier = new Applier(client);
        String ns = cluster.getMetadata().getNamespace();
        String name = cluster.getMetadata().getName();

        ClusterSecrets.desired(cluster, random).forEach(applier::createIfAbsent);

        Map<String, Pod> pods = instancePods(client, cluster);
        Set<Integer> existing = pods.keySet().stream()
                .map(n -> ClusterNames.serialOf(name, n).orElse(-1)).filter(s -> s > 0).collect(Collectors.toSet());
        Optional.ofNullable(cluster.getStatus()).map(s -> s.provisioning).ifPresent(p -> p.instances.forEach(i -> existing.add(i.serial)));
        InstanceLayout layout = InstanceLayout.of(cluster, existing);

        // the ConfigMap first: new pods mount it, and synchronous_standby_names names the planned instances
        PghaServices services = new PghaServices(servicesNamespace, backupTls);
        applier.apply(ClusterConfigMap.desired(cluster, layout.plannedNames(), layout.firstPrimary(), services));
        // before the pods too: an instance starts only with its certificate mounted
        ClusterCertificates certificates = new ClusterCertificates(client, cluster, issuer);
        // the backup service's certificate too: its CA goes into the cluster's CA certificate Secret, which the pods mount
        String backupCa = new BackupCertificates(client, services, issuer).ensure(clock.instant());
        CertificateIssuer.Issued ca = certificates.authority(applier, clock.instant(), backupCa);
        layout.plannedNames().forEach(instance -> certificates.ensureInstance(ca, instance, clock.instant()));
        // before the pods: a primary's liveness check and start read its own pod with this account
        applier.apply(InstanceAccess.serviceAccount(cluster));
        applier.apply(InstanceAccess.role(cluster, layout.plannedNames()));
        applier.apply(InstanceAccess.roleBinding(cluster));
        for (String service : List.of(PghaServices.MONITOR, PghaServices.BACKUP)) {
            applier.apply(ServiceAccess.role(cluster, service));
            applier.apply(ServiceAccess.roleBinding(cluster, service, services));
        }
        // before the pods, so that no instance ever listens unprotected
        applier.apply(InstanceNetworkPolicy.desired(cluster, services));

        for (int serial : layout.plan().remove()) {
            String instance = ClusterNames.instance(name, serial);
            LOG.infof("%s/%s: removing standby %s and its volume", ns, name, instance);
            client.pods().inNamespace(ns).withName(instance).delete();
            client.persistentVolumeClaims().inNamespace(ns).withName(InstancePvc.name(cluster, instance)).delete();
            certificates.remove(instance);
            pods.remove(instance);
        }
        List<String> outdated = new ArrayList<>();
        for (int serial : layout.plannedSerials()) {
            String instance = ClusterNames.instance(name, serial);
            applier.createIfAbsent(InstancePvc.desired(cluster, instance));
            Pod desired = InstancePod.desired(cluster, serial, layout.role(instance));
            // the pod spec and the settings only a restart applies: a change of either recreates the pod
            String hash = Applier.hash(List.of(desired.getSpec(), desired.getMetadata().getAnnotations()));
            Applier.annotate(desired, hash);
            Pod current = pods.get(instance);
            if (current == null) {
                String role = roleNow(client, cluster, layout, instance);
                desired.getMetadata().getLabels().put(Labels.ROLE, role);
                LOG.infof("%s/%s: creating instance %s (%s)", ns, name, instance, role);
                pods.put(instance, client.resource(desired).create());
                continue;
            }
            if (current.getMetadata().getDeletionTimestamp() != null) {
                // still terminating: its successor is created once it is gone
                continue;
            }
            if (!layout.role(instance).equals(current.getMetadata().getLabels().get(Labels.ROLE))) {
                String role = roleNow(client, cluster, layout, instance);
                if (!role.equals(current.getMetadata().getLabels().get(Labels.ROLE))) {
                    client.pods().inNamespace(ns).withName(instance)
                            .edit(p -> {
                                p.getMetadata().getLabels().put(Labels.ROLE, role);
                                return p;
                            });
                }
            }
            if (!hash.equals(Applier.hashOf(current))) {
                outdated.add(instance);
            }
        }

        String rollout = outdated.isEmpty() ? null : rollOut(client, cluster, layout, pods, outdated);

        applier.apply(InstanceDisruptionBudget.desired(cluster));
        ClusterServices.desired(cluster).forEach(applier::apply);
        if (cluster.getSpec().router.enabled) {
            applier.apply(RouterDeployment.serviceAccount(cluster));
            applier.apply(RouterDeployment.role(cluster));
            applier.apply(RouterDeployment.roleBinding(cluster));
            applier.apply(RouterDeployment.desired(cluster, routerImage));
        } else {
            client.apps().deployments().inNamespace(ns).withName(RouterDeployment.name(cluster)).delete();
        }
        for (BackupScheduleCronJob.Trigger trigger : BackupScheduleCronJob.Trigger.values()) {
            switch (BackupScheduleCronJob.step(backupTrigger, cluster, trigger)) {
                case APPLY -> applier.apply(BackupScheduleCronJob.desired(cluster, services, trigger));
                case DELETE -> client.batch().v1().cronjobs().inNamespace(ns).withName(BackupScheduleCronJob.name(cluster, trigger)).delete();
                case LEAVE -> {
                    // no CronJobs outside the knative overlay: its ClusterRole alone may touch them
                }
            }
        }

        Map<String, Boolean> ready = new TreeMap<>();
        pods.forEach((n, p) -> ready.put(n, InstancePods.ready(p)));
        PostgresClusterStatus next = ClusterStatusView.valid(cluster, layout, ready, rollout, clock);
        patchStatus(client, cluster, next);
        return UpdateControl.<PostgresCluster>noUpdate()
                .rescheduleAfter(next.phase.equals(io.pgha.api.v1.ClusterPhase.READY) ? READY_RECHECK : NOT_READY_RECHECK);
    }

    /**
     * Instances whose pod spec is out of date (pods are immutable, so they are recreated; the
     * volume stays). Standbys go first, one at a time and only while every instance is ready.
     * The primary goes last: the provisioner requests a switchover to a ready standby (the
     * {@link Labels#SWITCHOVER_ANNOTATION} annotation, which the monitor carries out), and once
     * the monitor has recorded the new primary the former one is an outdated standby like any
     * other. A one-instance cluster has nobody to switch over to: its pod is recreated in place.
     * Returns what is happening, for the status.
     */
    private String rollOut(KubernetesClient client, PostgresCluster cluster, InstanceLayout layout, Map<String, Pod> pods,
                           List<String> outdated) {
        String ns = cluster.getMetadata().getNamespace();
        boolean allReady = pods.values().stream().allMatch(InstancePods::ready);
        Optional<String> standby = outdated.stream().filter(i -> !i.equals(layout.primary())).findFirst();
        Pod primaryPod = pods.get(layout.primary());
        if (primaryPod != null && outdated.contains(layout.primary()) && RestartSettings.primaryFirst(
                RestartSettings.parse(annotation(primaryPod, InstancePod.RESTART_SETTINGS_ANNOTATION)),
                InstancePod.restartSettings(cluster))) {
            // a standby may not have less of these than its primary: the primary restarts first, in place
            if (!allReady) {
                return "primary " + layout.primary() + " must restart first to lower settings standbys copy: waiting for every instance to be ready";
            }
            LOG.infof("%s/%s: restarting primary %s first: it lowers a setting no standby may have lower than its primary",
                    ns, cluster.getMetadata().getName(), layout.primary());
            client.pods().inNamespace(ns).withName(layout.primary()).delete();
            return "restarting primary " + layout.primary() + " first: it lowers a setting no standby may have lower than its primary";
        }
        String instance = standby.orElse(layout.primary());
        if (!allReady) {
            return "instance " + instance + " runs an older pod spec: waiting for every instance to be ready";
        }
        if (standby.isPresent() || pods.size() == 1) {
            LOG.infof("%s/%s: recreating %s with the new pod spec", ns, cluster.getMetadata().getName(), instance);
            client.pods().inNamespace(ns).withName(instance).delete();
            return "recreating " + instance + " with the new pod spec";
        }
        String requested = Optional.ofNullable(cluster.getMetadata().getAnnotations())
                .map(a -> a.get(Labels.SWITCHOVER_ANNOTATION)).orElse(null);
        // a request naming the current primary was carried out before; one naming a standby is pending
        if (requested != null && !requested.equals(layout.primary()) && pods.containsKey(requested)) {
            return "primary " + instance + " runs an older pod spec: waiting for the switchover to " + requested;
        }
        String target = pods.keySet().stream().filter(n -> !n.equals(layout.primary())).sorted().findFirst().orElseThrow();
        LOG.infof("%s/%s: primary %s runs an older pod spec: requesting a switchover to %s", ns,
                cluster.getMetadata().getName(), instance, target);
        client.resources(PostgresCluster.class).inNamespace(ns).withName(cluster.getMetadata().getName())
                .edit(c -> {
                    if (c.getMetadata().getAnnotations() == null) {
                        c.getMetadata().setAnnotations(new LinkedHashMap<>());
                    }
                    c.getMetadata().getAnnotations().put(Labels.SWITCHOVER_ANNOTATION, target);
                    return c;
                });
        return "primary " + instance + " runs an older pod spec: requested a switchover to " + target;
    }

    /**
     * The role label to give an instance pod now. Primary only when the cluster as it is now says
     * so, not just the informer's copy: that copy may not show yet that the monitor fenced the
     * instance, and a pod labelled primary starts its data directory as a primary.
     */
    private static String roleNow(KubernetesClient client, PostgresCluster cluster, InstanceLayout layout, String instance) {
        if (!Labels.ROLE_PRIMARY.equals(layout.role(instance))) {
            return layout.role(instance);
        }
        PostgresCluster fresh = client.resources(PostgresCluster.class).inNamespace(cluster.getMetadata().getNamespace())
                .withName(cluster.getMetadata().getName()).get();
        return fresh == null ? Labels.ROLE_STANDBY : InstanceLayout.of(fresh, layout.existing()).role(instance);
    }

    private static String annotation(Pod pod, String key) {
        return pod.getMetadata().getAnnotations() == null ? null : pod.getMetadata().getAnnotations().get(key);
    }

    private static Map<String, Pod> instancePods(KubernetesClient client, PostgresCluster cluster) {
        Map<String, Pod> pods = new LinkedHashMap<>();
        client.pods().inNamespace(cluster.getMetadata().getNamespace())
                .withLabel(Labels.CLUSTER, cluster.getMetadata().getName())
                .withLabel(Labels.COMPONENT, Labels.COMPONENT_INSTANCE)
                .list().getItems()
                .forEach(p -> pods.put(p.getMetadata().getName(), p));
        return pods;
    }

    /**
     * Patches the provisioner's status fields, only when they changed. The patch is computed
     * against the cluster as it is now (not the informer's copy), keeps the conditions other
     * services own, and tests the resourceVersion it was computed against: a concurrent write
     * makes it fail (409/422) and the next pass patches again.
     */
    private static void patchStatus(KubernetesClient client, PostgresCluster cluster, PostgresClusterStatus next) {
        if (!ClusterStatusView.differs(cluster.getStatus(), next)) {
            return;
        }
        var resource = client.resources(PostgresCluster.class).inNamespace(cluster.getMetadata().getNamespace())
                .withName(cluster.getMetadata().getName());
        PostgresCluster fresh = resource.get();
        if (fresh == null) {
            return;
        }
        PostgresClusterStatus patch = ClusterStatusView.onto(fresh.getStatus(), next);
        if (!ClusterStatusView.differs(fresh.getStatus(), patch)) {
            return;
        }
        try {
            resource.subresource("status").patch(PatchContext.of(PatchType.JSON),
                    ClusterStatusView.jsonPatch(fresh.getMetadata().getResourceVersion(), fresh.getStatus(), patch));
        } catch (KubernetesClientException e) {
            // 409/422: the test of the resourceVersion failed, someone wrote in between
            if (e.getCode() != 409 && e.getCode() != 422) {
                throw e;
            }
            LOG.debugf("status of %s changed meanwhile: the next pass patches it", cluster.getMetadata().getName());
        }
    }

}
