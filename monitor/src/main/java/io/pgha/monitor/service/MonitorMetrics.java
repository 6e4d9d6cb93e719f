package io.pgha.monitor.service;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.pgha.api.MetricLabels;
import io.pgha.api.v1.cluster.TopologyStatus;
import io.pgha.monitor.core.InstanceObservation;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The monitor's Prometheus metrics about the cluster, all prefixed {@code pgha_} and labelled
 * {@code pgha_namespace}, {@code pgha_cluster} (and {@code pgha_instance} per instance):
 * <ul>
 *   <li>{@code pgha_instance_up}: 1 when the last check got an answer</li>
 *   <li>{@code pgha_instance_primary}: 1 for the primary, 0 for a standby (absent when unknown)</li>
 *   <li>{@code pgha_instance_timeline}: the timeline the instance is on</li>
 *   <li>{@code pgha_replication_lag_bytes}, {@code pgha_replication_lag_seconds}: per standby</li>
 *   <li>{@code pgha_seconds_since_last_check}: since the last check that got an answer</li>
 *   <li>{@code pgha_timeline}: the cluster primary's timeline</li>
 *   <li>{@code pgha_failovers_total{kind=failover|switchover,outcome=done|aborted}}</li>
 *   <li>{@code pgha_failover_duration_seconds{kind}}: from the decision to the re-pointed standbys</li>
 *   <li>{@code pgha_monitor_leader}: 1 while this monitor holds the cluster's lease</li>
 * </ul>
 * The per-instance series and {@code pgha_timeline} are exported by the leading monitor only, so
 * that a cluster has each once however many monitors run; every monitor exports
 * {@code pgha_monitor_leader} and counts the procedures it ran itself.
 */
public final class MonitorMetrics {
    private final MeterRegistry registry;
    private final Tags cluster;
    private final Clock clock;
    private final Map<String, InstanceGauges> instances = new ConcurrentHashMap<>();
    private final AtomicReference<Double> timeline = new AtomicReference<>(Double.NaN);
    private final AtomicReference<Double> leader = new AtomicReference<>(0.0);
    private Gauge timelineGauge;

    public MonitorMetrics(MeterRegistry registry, String namespace, String cluster, Clock clock) {
        this.registry = registry;
        this.cluster = clusterTags(namespace, cluster);
        this.clock = clock;
        Gauge.builder("pgha.monitor.leader", leader, AtomicReference::get).tags(this.cluster)
                .description("1 while this monitor holds the cluster's lease and acts").register(registry);
        // present from the start at 0, so that rates and alerts over them work before the first failover
        for (String kind : new String[]{"failover", "switchover"}) {
            failovers(kind, true);
            failovers(kind, false);
            duration(kind);
        }
    }

    /** The labels every series about one cluster carries. */
    static Tags clusterTags(String namespace, String cluster) {
        return Tags.of(MetricLabels.NAMESPACE, namespace, MetricLabels.CLUSTER, cluster);
    }

    private Counter failovers(String kind, boolean done) {
        return Counter.builder("pgha.failovers").tags(cluster).tags("kind", kind, "outcome", done ? "done" : "aborted")
                .description("Failovers and switchovers the monitor ran").register(registry);
    }

    private Timer duration(String kind) {
        return Timer.builder("pgha.failover.duration").tags(cluster).tags("kind", kind)
                .description("From the decision to the re-pointed standbys").register(registry);
    }

    private final class InstanceGauges {
        final AtomicReference<Double> up = new AtomicReference<>(0.0);
        final AtomicReference<Double> primary = new AtomicReference<>(Double.NaN);
        final AtomicReference<Double> tli = new AtomicReference<>(Double.NaN);
        final AtomicReference<Double> lagBytes = new AtomicReference<>(Double.NaN);
        final AtomicReference<Double> lagSeconds = new AtomicReference<>(Double.NaN);
        final List<Gauge> gauges;
        volatile Instant lastOk;

        InstanceGauges(String instance) {
            Tags tags = cluster.and(MetricLabels.INSTANCE, instance);
            gauges = List.of(
                    Gauge.builder("pgha.instance.up", up, AtomicReference::get).tags(tags)
                            .description("1 when the last check of the instance got an answer").register(registry),
                    Gauge.builder("pgha.instance.primary", primary, AtomicReference::get).tags(tags)
                            .description("1 for the primary, 0 for a standby").register(registry),
                    Gauge.builder("pgha.instance.timeline", tli, AtomicReference::get).tags(tags)
                            .description("Timeline the instance is on").register(registry),
                    Gauge.builder("pgha.replication.lag.bytes", lagBytes, AtomicReference::get).tags(tags)
                            .description("WAL bytes the standby has not replayed yet").baseUnit("bytes").register(registry),
                    Gauge.builder("pgha.replication.lag.seconds", lagSeconds, AtomicReference::get).tags(tags)
                            .description("Replay lag of the standby").register(registry),
                    Gauge.builder("pgha.seconds.since.last.check", this, g -> g.lastOk == null ? Double.NaN
                                    : Duration.between(g.lastOk, clock.instant()).toMillis() / 1000.0).tags(tags)
                            .description("Seconds since the last check of the instance that got an answer").register(registry));
        }

        void remove() {
            gauges.forEach(registry::remove);
        }
    }

    /** Exported only while this monitor leads (see {@link #leader}). */
    public synchronized void observed(List<TopologyStatus.Instance> report, Map<String, InstanceObservation> latest) {
        if (leader.get() == 0.0) {
            return;
        }
        instances.keySet().removeIf(name -> {
            boolean gone = report.stream().noneMatch(i -> i.name.equals(name));
            if (gone) {
                instances.get(name).remove();
            }
            return gone;
        });
        for (TopologyStatus.Instance i : report) {
            InstanceGauges g = instances.computeIfAbsent(i.name, InstanceGauges::new);
            InstanceObservation o = latest.get(i.name);
            boolean up = o != null && o.reachable();
            g.up.set(up ? 1.0 : 0.0);
            if (up) {
                g.lastOk = o.at();
            }
            g.primary.set(TopologyStatus.ROLE_PRIMARY.equals(i.role) ? 1.0 : TopologyStatus.ROLE_STANDBY.equals(i.role) ? 0.0 : Double.NaN);
            g.tli.set(i.timeline == null ? Double.NaN : i.timeline.doubleValue());
            g.lagBytes.set(i.lagBytes == null ? Double.NaN : i.lagBytes.doubleValue());
            g.lagSeconds.set(i.lagSeconds == null ? Double.NaN : i.lagSeconds);
        }
    }

    public synchronized void timeline(Integer value) {
        timeline.set(value == null ? Double.NaN : value.doubleValue());
        if (leader.get() == 1.0 && timelineGauge == null) {
            timelineGauge = Gauge.builder("pgha.timeline", timeline, AtomicReference::get).tags(cluster)
                    .description("Timeline of the cluster's primary").register(registry);
        }
    }

    /** A monitor that stops leading stops exporting the cluster's series at once: the new leader exports them. */
    public synchronized void leader(boolean isLeader) {
        leader.set(isLeader ? 1.0 : 0.0);
        if (!isLeader) {
            instances.values().forEach(InstanceGauges::remove);
            instances.clear();
            if (timelineGauge != null) {
                registry.remove(timelineGauge);
                timelineGauge = null;
            }
        }
    }

    public void procedureFinished(String kind, boolean done, Duration took) {
        failovers(kind, done).increment();
        if (done) {
            duration(kind).record(took);
        }
    }

    /** Removes this cluster's meters (the cluster is gone or another monitor object takes over). */
    public synchronized void close() {
        registry.getMeters().stream().filter(m -> m.getId().getName().startsWith("pgha.")
                        && cluster.stream().allMatch(t -> t.getValue().equals(m.getId().getTag(t.getKey()))))
                .forEach(registry::remove);
    }
}
