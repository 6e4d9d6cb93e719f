package io.pgha.monitor.service;

import io.pgha.api.ClusterNames;
import io.pgha.api.v1.cluster.ProvisioningStatus;
import io.pgha.local.LocalSecrets;
import io.pgha.monitor.core.InstanceObservation;
import io.pgha.monitor.core.MonitorSettings;
import io.pgha.monitor.local.LocalAddressing;
import io.pgha.monitor.pg.Await;
import io.pgha.monitor.pg.InstanceConnection;
import io.vertx.core.Future;
import io.vertx.core.Vertx;

import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The instances of one cluster as the monitor reaches them: one {@link InstanceConnection} per
 * instance the provisioner reports, at its local address, kept in step with the provisioning
 * status and the superuser credentials.
 */
final class InstancePool implements AutoCloseable {
    private final Vertx vertx;
    private final LocalAddressing addressing;
    private final Clock clock;
    private final Map<String, InstanceConnection> connections = new HashMap<>();
    private final Map<String, Integer> serials = new LinkedHashMap<>();
    private String credentialsKey;

    InstancePool(Vertx vertx, LocalAddressing addressing, Clock clock) {
        this.vertx = vertx;
        this.addressing = addressing;
        this.clock = clock;
    }

    /** Instance names in serial order. */
    List<String> names() {
        return new ArrayList<>(serials.keySet());
    }

    boolean contains(String instance) {
        return serials.containsKey(instance);
    }

    int port(String instance) {
        return addressing.port(serials.get(instance));
    }

    InstanceConnection connection(String instance) {
        return connections.get(instance);
    }

    /** Follows the provisioning status: connections for new instances, none for removed ones. */
    void sync(List<ProvisioningStatus.Instance> provisioned, LocalSecrets.Credentials superuser, MonitorSettings settings) {
        String key = superuser.username() + ":" + superuser.password().hashCode();
        if (!key.equals(credentialsKey)) {
            connections.values().forEach(InstanceConnection::close);
            connections.clear();
            credentialsKey = key;
        }
        Map<String, Integer> wanted = new LinkedHashMap<>();
        provisioned.forEach(i -> wanted.put(i.name, i.serial));
        connections.keySet().removeIf(n -> {
            if (!wanted.containsKey(n) || !wanted.get(n).equals(serials.get(n))) {
                connections.get(n).close();
                return true;
            }
            return false;
        });
        serials.clear();
        serials.putAll(wanted);
        Duration timeout = ClusterMonitor.checkTimeout(settings);
        Duration connectTimeout = timeout.compareTo(Duration.ofSeconds(2)) > 0 ? Duration.ofSeconds(2) : timeout;
        wanted.forEach((n, serial) -> connections.computeIfAbsent(n, k -> new InstanceConnection(vertx, n,
                LocalAddressing.HOST, addressing.port(serial), superuser.username(), superuser.password(),
                connectTimeout, clock)));
    }

    /** Checks every instance at once, each within {@code timeout}. */
    Map<String, InstanceObservation> observeAll(Duration timeout) {
        Map<String, String> slotOwners = new HashMap<>();
        serials.keySet().forEach(n -> slotOwners.put(ClusterNames.replicationSlot(n), n));
        Map<String, Future<InstanceObservation>> futures = new LinkedHashMap<>();
        serials.keySet().forEach(n -> futures.put(n, connections.get(n).observe(timeout, slotOwners)));
        Map<String, InstanceObservation> result = new LinkedHashMap<>();
        futures.forEach((n, f) -> {
            try {
                result.put(n, Await.result(f, timeout.plusMillis(500)));
            } catch (Await.FailedException e) {
                result.put(n, InstanceObservation.unreachable(n, clock.instant(), e.getMessage()));
            }
        });
        return result;
    }

    InstanceObservation observe(String instance) {
        try {
            return Await.result(connections.get(instance).observe(Duration.ofSeconds(2), Map.of()), Duration.ofSeconds(3));
        } catch (Await.FailedException e) {
            return InstanceObservation.unreachable(instance, clock.instant(), e.getMessage());
        }
    }

    @Override
    public void close() {
        connections.values().forEach(InstanceConnection::close);
        connections.clear();
    }
}
