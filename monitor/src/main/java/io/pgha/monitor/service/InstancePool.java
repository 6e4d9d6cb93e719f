package io.pgha.monitor.service;

import io.pgha.api.ClusterNames;
import io.pgha.api.v1.cluster.ProvisioningStatus;
import io.pgha.monitor.core.InstanceObservation;
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
import java.util.Objects;

/**
 * The instances of one cluster as the monitor reaches them: one {@link InstanceConnection} per
 * instance the provisioner reports, at the address the platform gives it, kept in step with the
 * provisioning status, the instances' addresses (a recreated pod has a new one) and the
 * superuser credentials. An instance without an address has no connection and checks as
 * unreachable.
 */
final class InstancePool implements AutoCloseable {
    /** How long opening a TCP connection to an instance may take. */
    private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(2);

    private final Vertx vertx;
    private final InstanceDirectory directory;
    private final Clock clock;
    private final java.util.function.Consumer<String> lost;
    private final Map<String, InstanceConnection> connections = new HashMap<>();
    private final Map<String, Integer> serials = new LinkedHashMap<>();
    private Map<String, InstanceDirectory.Placement> placements = Map.of();
    private String credentialsKey;

    /** @param lost told the name of an instance whose server closed the monitor's connection ({@link InstanceConnection}) */
    InstancePool(Vertx vertx, InstanceDirectory directory, Clock clock, java.util.function.Consumer<String> lost) {
        this.vertx = vertx;
        this.directory = directory;
        this.clock = clock;
        this.lost = lost;
    }

    /** Instance names in serial order. */
    List<String> names() {
        return new ArrayList<>(serials.keySet());
    }

    boolean contains(String instance) {
        return serials.containsKey(instance);
    }

    /** Where the instance was at the last sync; null when it had no address. */
    InstanceDirectory.Endpoint endpoint(String instance) {
        InstanceDirectory.Placement p = placements.get(instance);
        return p == null ? null : p.endpoint();
    }

    /** Whether the platform counted the instance ready at the last sync. */
    boolean ready(String instance) {
        InstanceDirectory.Placement p = placements.get(instance);
        return p != null && p.ready();
    }

    /** The instance's connection; null when it had no address at the last sync. */
    InstanceConnection connectionIfAny(String instance) {
        return connections.get(instance);
    }

    InstanceConnection connection(String instance) {
        InstanceConnection c = connections.get(instance);
        if (c == null) {
            throw new IllegalStateException(instance + " has no address");
        }
        return c;
    }

    /**
     * Follows the provisioning status and the platform: connections for new instances and for
     * moved ones, none for removed ones.
     */
    void sync(List<ProvisioningStatus.Instance> provisioned, InstanceDirectory.Credentials superuser) {
        String key = superuser.username() + ":" + superuser.password().hashCode() + ":" + Objects.hashCode(superuser.trustedCa());
        if (!key.equals(credentialsKey)) {
            connections.values().forEach(InstanceConnection::close);
            connections.clear();
            credentialsKey = key;
        }
        Map<String, Integer> wanted = new LinkedHashMap<>();
        provisioned.forEach(i -> wanted.put(i.name, i.serial));
        Map<String, InstanceDirectory.Placement> placed = directory.locate(wanted);
        connections.keySet().removeIf(n -> {
            InstanceDirectory.Placement now = placed.get(n);
            if (!wanted.containsKey(n) || !wanted.get(n).equals(serials.get(n))
                    || !Objects.equals(endpoint(n), now == null ? null : now.endpoint())) {
                connections.get(n).close();
                return true;
            }
            return false;
        });
        serials.clear();
        serials.putAll(wanted);
        placements = placed;
        wanted.keySet().forEach(n -> {
            InstanceDirectory.Endpoint at = endpoint(n);
            if (at != null) {
                connections.computeIfAbsent(n, k -> new InstanceConnection(vertx, n, at.host(), at.port(),
                        superuser.username(), superuser.password(), superuser.trustedCa(), CONNECT_TIMEOUT, clock,
                        () -> lost.accept(n)));
            }
        });
    }

    /** Checks every instance at once, each within {@code timeout}. */
    Map<String, InstanceObservation> observeAll(Duration timeout) {
        Map<String, String> slotOwners = new HashMap<>();
        serials.keySet().forEach(n -> slotOwners.put(ClusterNames.replicationSlot(n), n));
        Map<String, Future<InstanceObservation>> futures = new LinkedHashMap<>();
        serials.keySet().stream().filter(connections::containsKey)
                .forEach(n -> futures.put(n, connections.get(n).observe(timeout, slotOwners)));
        Map<String, InstanceObservation> result = new LinkedHashMap<>();
        serials.keySet().forEach(n -> {
            Future<InstanceObservation> f = futures.get(n);
            if (f == null) {
                result.put(n, InstanceObservation.unreachable(n, clock.instant(), "has no address"));
                return;
            }
            try {
                result.put(n, Await.result(f, timeout.plusMillis(500)));
            } catch (Await.FailedException e) {
                result.put(n, InstanceObservation.unreachable(n, clock.instant(), e.getMessage()));
            }
        });
        return result;
    }

    InstanceObservation observe(String instance) {
        if (!connections.containsKey(instance)) {
            return InstanceObservation.unreachable(instance, clock.instant(), "has no address");
        }
        try {
            return Await.result(connections.get(instance).observeNow(Duration.ofSeconds(2)), Duration.ofSeconds(3));
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
