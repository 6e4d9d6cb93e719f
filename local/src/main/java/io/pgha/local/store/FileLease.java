package io.pgha.local.store;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.pgha.local.StateFiles;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * A lease in a file, the local stand-in for a Kubernetes Lease: one holder at a time, valid until
 * its last renewal plus the lease duration. Every read-modify-write happens under the file's lock.
 * A holder that stops renewing loses the lease when it expires; there is no other way to take it.
 *
 * <p>Another identity judges expiry only by what it saw itself: the lease has expired once this
 * object has seen the same renewal for the whole lease duration on its own monotonic clock. The
 * times written in the file come from the wall clock, which may be stepped (NTP, an operator): a
 * step forwards must not hand the lease over early. A lease first seen now is therefore never
 * taken before a full duration has passed, as client-go's leader election does.
 *
 * <p>Each acquisition starts a new term: {@code leaseTransitions} goes up whenever the lease is
 * taken by an identity that did not hold it (renewals keep it). {@link #underTerm} runs a write
 * only while the lease file still names a given holder and term, under the lease's lock, so a
 * holder that lost the lease cannot write afterwards.
 */
public final class FileLease {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** A lease file says only who leads now: without it, the next holder simply takes a fresh lease. */
    private static final String RECOVERY = "it only records which monitor leads: stop pgha ('pgha down'), delete it, "
            + "and start again ('pgha up')";

    /** What the lease file holds, named after the fields of a Kubernetes Lease spec. */
    public record State(String holderIdentity, long acquireTimeMillis, long renewTimeMillis,
                        long leaseDurationMillis, int leaseTransitions) {
    }

    private final Path file;
    private final String identity;
    private final Duration duration;
    private final Clock clock;
    private final LongSupplier monotonicNanos;
    /** The lease as this object last saw it, and when it first saw it so (monotonic). */
    private State observed;
    private long observedAtNanos;

    public FileLease(Path file, String identity, Duration duration, Clock clock) {
        this(file, identity, duration, clock, System::nanoTime);
    }

    /** @param monotonicNanos a monotonic clock in nanoseconds, as {@link System#nanoTime()} */
    public FileLease(Path file, String identity, Duration duration, Clock clock, LongSupplier monotonicNanos) {
        this.file = file;
        this.identity = identity;
        this.duration = duration;
        this.clock = clock;
        this.monotonicNanos = monotonicNanos;
    }

    public String identity() {
        return identity;
    }

    /**
     * Takes the lease when it is free or expired, renews it when this identity holds it. Returns
     * the term (transition counter) this identity holds the lease under now, valid for the lease
     * duration from now; empty when another identity holds it.
     */
    public synchronized OptionalLong tryAcquireOrRenew() {
        return FileLocks.withLock(lockFile(), () -> {
            Instant now = clock.instant();
            Optional<State> current = read();
            State next;
            if (current.isPresent() && identity.equals(current.get().holderIdentity())) {
                State c = current.get();
                next = new State(identity, c.acquireTimeMillis(), now.toEpochMilli(), duration.toMillis(), c.leaseTransitions());
            } else if (current.isEmpty() || current.get().holderIdentity() == null || expired(current.get())) {
                int transitions = current.map(s -> s.leaseTransitions() + 1).orElse(0);
                next = new State(identity, now.toEpochMilli(), now.toEpochMilli(), duration.toMillis(), transitions);
            } else {
                return OptionalLong.empty();
            }
            write(next);
            return OptionalLong.of(next.leaseTransitions());
        });
    }

    /**
     * Runs {@code write} under the lease's lock if the lease file still names {@code holder} under
     * term {@code term}; empty, and nothing run, when it does not. The lease cannot change hands
     * while {@code write} runs, so a write that starts here cannot land after a successor's term
     * began. Expiry is deliberately not judged here: as long as nobody else took the lease, no
     * newer term exists that the write could overtake.
     */
    public static <T> Optional<T> underTerm(Path file, String holder, long term, Supplier<T> write) {
        return FileLocks.withLock(lockFile(file), () -> {
            Optional<State> current = read(file);
            if (current.isEmpty() || !holder.equals(current.get().holderIdentity()) || current.get().leaseTransitions() != term) {
                return Optional.empty();
            }
            return Optional.of(write.get());
        });
    }

    /** Gives the lease up at once if this identity holds it, so another can take it without waiting. */
    public synchronized void release() {
        FileLocks.withLock(lockFile(), () -> {
            read().filter(s -> identity.equals(s.holderIdentity())).ifPresent(s -> write(
                    new State(null, s.acquireTimeMillis(), s.renewTimeMillis(), s.leaseDurationMillis(), s.leaseTransitions())));
            return null;
        });
    }

    /** The current unexpired holder, if any. */
    public synchronized Optional<String> holder() {
        return read().filter(s -> s.holderIdentity() != null && (identity.equals(s.holderIdentity()) || !expired(s)))
                .map(State::holderIdentity);
    }

    /**
     * Whether {@code current}, held by another identity, has gone unrenewed for the lease
     * duration it announces, as this object saw it on its monotonic clock.
     */
    private boolean expired(State current) {
        long now = monotonicNanos.getAsLong();
        if (!current.equals(observed)) {
            observed = current;
            observedAtNanos = now;
        }
        return now - observedAtNanos >= Duration.ofMillis(current.leaseDurationMillis()).toNanos();
    }

    private Optional<State> read() {
        return read(file);
    }

    private static Optional<State> read(Path file) {
        return StateFiles.readJson(JSON, file, State.class, RECOVERY);
    }

    private void write(State state) {
        try {
            StateFiles.replace(file, JSON.writeValueAsBytes(state), StateFiles.READABLE);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a lease state always serializes", e);
        }
    }

    private Path lockFile() {
        return lockFile(file);
    }

    private static Path lockFile(Path file) {
        return file.resolveSibling(file.getFileName() + ".lock");
    }
}
