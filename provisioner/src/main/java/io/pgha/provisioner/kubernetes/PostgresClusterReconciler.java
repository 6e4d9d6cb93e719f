package io.pgha.provisioner.kubernetes;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodCondition;
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
import io.pgha.api.Labels;
import io.pgha.api.v1.cluster.PostgresCluster;
import io.pgha.api.v1.cluster.PostgresClusterStatus;
import io.pgha.api.validation.ClusterValidator;
import io.pgha.api.validation.Violation;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.inject.Inject;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
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
    private final Clock clock = Clock.systemUTC();

    @ConfigProperty(name = "pgha.kubernetes.router-image")
    String routerImage;

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
        registry.counter(PASSES_METRIC).increment();
        KubernetesClient client = context.getClient();
        List<Violation> violations = ClusterValidator.validate(cluster);
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
        applier.apply(ClusterConfigMap.desired(cluster, layout.plannedNames(), layout.firstPrimary()));

        for (int serial : layout.plan().remove()) {
            String instance = ClusterNames.instance(name, serial);
            LOG.infof("%s/%s: removing standby %s and its volume", ns, name, instance);
            client.pods().inNamespace(ns).withName(instance).delete();
            client.persistentVolumeClaims().inNamespace(ns).withName(InstancePvc.name(cluster, instance)).delete();
            pods.remove(instance);
        }
        String rollout = null;
        for (int serial : layout.plannedSerials()) {
            String instance = ClusterNames.instance(name, serial);
            applier.createIfAbsent(InstancePvc.desired(cluster, instance));
            Pod desired = InstancePod.desired(cluster, serial, layout.role(instance));
            String hash = Applier.hash(desired.getSpec());
            Applier.annotate(desired, hash);
            Pod current = pods.get(instance);
            if (current == null) {
                LOG.infof("%s/%s: creating instance %s (%s)", ns, name, instance, layout.role(instance));
                client.resource(desired).create();
                continue;
            }
            if (!layout.role(instance).equals(current.getMetadata().getLabels().get(Labels.ROLE))) {
                client.pods().inNamespace(ns).withName(instance)
                        .edit(p -> {
                            p.getMetadata().getLabels().put(Labels.ROLE, layout.role(instance));
                            return p;
                        });
            }
            if (!hash.equals(Applier.hashOf(current)) && rollout == null) {
                rollout = rollOut(client, cluster, layout, pods, instance);
            }
        }

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

        Map<String, Boolean> ready = new TreeMap<>();
        pods.forEach((n, p) -> ready.put(n, isReady(p)));
        PostgresClusterStatus next = ClusterStatusView.valid(cluster, layout, ready, rollout, clock);
        patchStatus(client, cluster, next);
        return UpdateControl.<PostgresCluster>noUpdate()
                .rescheduleAfter(next.phase.equals(io.pgha.api.v1.ClusterPhase.READY) ? READY_RECHECK : NOT_READY_RECHECK);
    }

    /**
     * An instance whose pod spec is out of date: a standby is recreated when every instance is
     * ready (one at a time); the primary waits for a switchover, since restarting it in place
     * would cost every client its connection.
     */
    private String rollOut(KubernetesClient client, PostgresCluster cluster, InstanceLayout layout, Map<String, Pod> pods,
                           String instance) {
        if (instance.equals(layout.primary())) {
            return "primary " + instance + " runs an older pod spec: it is replaced after a switchover";
        }
        if (!pods.values().stream().allMatch(PostgresClusterReconciler::isReady)) {
            return "instance " + instance + " runs an older pod spec: waiting for every instance to be ready";
        }
        LOG.infof("%s/%s: recreating standby %s with the new pod spec", cluster.getMetadata().getNamespace(),
                cluster.getMetadata().getName(), instance);
        client.pods().inNamespace(cluster.getMetadata().getNamespace()).withName(instance).delete();
        return "recreating standby " + instance + " with the new pod spec";
    }

    private static Map<String, Pod> instancePods(KubernetesClient client, PostgresCluster cluster) {
        Map<String, Pod> pods = new LinkedHashMap<>();
        client.pods().inNamespace(cluster.getMetadata().getNamespace())
                .withLabel(Labels.CLUSTER, cluster.getMetadata().getName())
                .withLabel(Labels.COMPONENT, Labels.COMPONENT_INSTANCE)
                .list().getItems().stream()
                .filter(p -> p.getMetadata().getDeletionTimestamp() == null)
                .forEach(p -> pods.put(p.getMetadata().getName(), p));
        return pods;
    }

    static boolean isReady(Pod pod) {
        if (pod.getStatus() == null || pod.getStatus().getConditions() == null) {
            return false;
        }
        return pod.getStatus().getConditions().stream()
                .anyMatch((PodCondition c) -> "Ready".equals(c.getType()) && "True".equals(c.getStatus()));
    }

    /** Patches the provisioner's status fields, only when they changed; a conflict means another pass will follow. */
    private static void patchStatus(KubernetesClient client, PostgresCluster cluster, PostgresClusterStatus next) {
        if (!ClusterStatusView.differs(cluster.getStatus(), next)) {
            return;
        }
        try {
            client.resources(PostgresCluster.class).inNamespace(cluster.getMetadata().getNamespace())
                    .withName(cluster.getMetadata().getName()).subresource("status")
                    .patch(PatchContext.of(PatchType.JSON),
                            ClusterStatusView.jsonPatch(cluster.getMetadata().getResourceVersion(), cluster.getStatus() != null, next));
        } catch (KubernetesClientException e) {
            // 409/422: the test of the resourceVersion failed, someone wrote in between
            if (e.getCode() != 409 && e.getCode() != 422) {
                throw e;
            }
            LOG.debugf("status of %s changed meanwhile: the next pass patches it", cluster.getMetadata().getName());
        }
    }
}
