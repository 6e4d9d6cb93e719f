package io.pgha.monitor.kubernetes;

import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.api.model.coordination.v1.LeaseBuilder;
import io.fabric8.kubernetes.api.model.coordination.v1.LeaseSpec;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.Resource;
import io.pgha.monitor.core.LeaseTerm;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.temporal.ChronoUnit;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * The monitor lease of one cluster as a {@code coordination.k8s.io/v1} Lease, the way client-go's
 * leader election uses one: the holder renews {@code renewTime}; anyone else takes it only once
 * it has not changed for {@code leaseDurationSeconds}, measured on this monitor's own clock from
 * when it first saw the current version (as client-go does: the holder's {@code renewTime} comes
 * from another machine's clock, and a skew between the two must not hand the lease over early).
 * Every write is an update carrying the resourceVersion that was read, so of two monitors racing
 * for it one gets a 409 and counts the lease as lost (create races the same way: the second
 * create is a 409). The term of a tenure is {@code leaseTransitions}, which goes up at every
 * acquisition. "First saw" is measured on a monotonic clock: a wall clock stepped forwards must
 * not hand the lease over early.
 */
public final class KubernetesLease implements io.pgha.monitor.service.Lease {
    private final KubernetesClient client;
    private final String namespace;
    private final String name;
    private final String identity;
    private final int durationSeconds;
    private final Clock clock;
    private final LongSupplier monotonicNanos;
    /** The lease version this monitor saw last, and when it first saw it (monotonic nanoseconds). */
    private String observedVersion;
    private long observedAtNanos;

    public KubernetesLease(KubernetesClient client, String namespace, String name, String identity, Duration duration,
                           Clock clock) {
        this(client, namespace, name, identity, duration, clock, System::nanoTime);
    }

    /**
     * @param clock          stamps {@code acquireTime} and {@code renewTime} for people to read
     * @param monotonicNanos judges expiry, as {@link System#nanoTime()}
     */
    public KubernetesLease(KubernetesClient client, String namespace, String name, String identity, Duration duration,
                           Clock clock, LongSupplier monotonicNanos) {
        this.client = client;
        this.namespace = namespace;
        this.name = name;
        this.identity = identity;
        // the field holds whole seconds: rounded up, never shorter than asked
        this.durationSeconds = (int) Math.max(1, (duration.toMillis() + 999) / 1000);
        this.clock = clock;
        this.monotonicNanos = monotonicNanos;
    }

    private Resource<Lease> resource() {
        return client.resources(Lease.class).inNamespace(namespace).withName(name);
    }

    @Override
    public synchronized Optional<LeaseTerm> tryAcquireOrRenew() {
        return tryAcquireOrRenew(resource().get());
    }

    /** The decision and the write, from the lease as read ({@code null}: there is none). */
    synchronized Optional<LeaseTerm> tryAcquireOrRenew(Lease current) {
        Instant now = clock.instant();
        try {
            if (current == null) {
                client.resource(new LeaseBuilder().withNewMetadata().withName(name).withNamespace(namespace).endMetadata()
                        .withNewSpec().withHolderIdentity(identity).withLeaseDurationSeconds(durationSeconds)
                        .withAcquireTime(micro(now)).withRenewTime(micro(now)).withLeaseTransitions(0).endSpec()
                        .build()).create();
                return Optional.of(new LeaseTerm(identity, 0));
            }
            LeaseSpec spec = current.getSpec() == null ? new LeaseSpec() : current.getSpec();
            boolean mine = identity.equals(spec.getHolderIdentity());
            if (!mine && !expired(current)) {
                return Optional.empty();
            }
            int transitions = spec.getLeaseTransitions() == null ? 0 : spec.getLeaseTransitions();
            int term = mine ? transitions : transitions + 1;
            Lease next = new LeaseBuilder(current).editOrNewSpec()
                    .withHolderIdentity(identity)
                    .withLeaseDurationSeconds(durationSeconds)
                    .withRenewTime(micro(now))
                    .withAcquireTime(mine ? spec.getAcquireTime() : micro(now))
                    .withLeaseTransitions(term)
                    .endSpec().build();
            client.resource(next).update();
            return Optional.of(new LeaseTerm(identity, term));
        } catch (KubernetesClientException e) {
            if (e.getCode() == 409) {
                // someone else wrote the lease since it was read: they hold it
                return Optional.empty();
            }
            throw e;
        }
    }

    @Override
    public synchronized Optional<String> holder() {
        Lease current = resource().get();
        if (current == null || current.getSpec() == null
                || !identity.equals(current.getSpec().getHolderIdentity()) && expired(current)) {
            return Optional.empty();
        }
        return Optional.of(current.getSpec().getHolderIdentity());
    }

    @Override
    public synchronized void release() {
        Lease current = resource().get();
        if (current == null || current.getSpec() == null || !identity.equals(current.getSpec().getHolderIdentity())) {
            return;
        }
        try {
            client.resource(new LeaseBuilder(current).editSpec().withHolderIdentity(null).endSpec().build()).update();
        } catch (KubernetesClientException e) {
            if (e.getCode() != 409) {
                throw e;
            }
            // taken meanwhile: nothing left to give up
        }
    }

    /**
     * Nobody holds it, or it has not changed for the duration the holder announced since this
     * monitor first saw it as it is.
     */
    private boolean expired(Lease lease) {
        LeaseSpec spec = lease.getSpec();
        if (spec.getHolderIdentity() == null || spec.getHolderIdentity().isEmpty() || spec.getLeaseDurationSeconds() == null) {
            return true;
        }
        long now = monotonicNanos.getAsLong();
        String version = lease.getMetadata().getResourceVersion();
        if (!version.equals(observedVersion)) {
            observedVersion = version;
            observedAtNanos = now;
        }
        return now - observedAtNanos >= TimeUnit.SECONDS.toNanos(spec.getLeaseDurationSeconds());
    }

    /** A MicroTime field: microseconds, UTC. */
    private static ZonedDateTime micro(Instant t) {
        return t.truncatedTo(ChronoUnit.MICROS).atZone(ZoneOffset.UTC);
    }
}
