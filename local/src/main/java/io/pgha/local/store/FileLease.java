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
 * its last renewal plus the lease duration. Every read-modify-write is a compare-and-swap with no
 * lock held ({@link VersionedFile}): a holder frozen mid-write (SIGSTOP, a paused machine) keeps
 * nobody from taking the lease once it expires. A holder that stops renewing loses the lease when
 * it expires; there is no other way to take it.
 *
 * <p>Another identity judges expiry only by what it saw itself: the lease has expired once this
 * object has seen the same renewal for the whole lease duration on its own monotonic clock. The
 * times written in the file come from the wall clock, which may be stepped (NTP, an operator): a
 * step forwards must not hand the lease over early. A lease first seen now is therefore never
 * taken before a full duration has passed, as client-go's leader election does.
 *
 * <p>Each acquisition starts a new term: {@code leaseTransitions} goes up whenever the lease is
 * taken by an identity that did not hold it (renewals keep it). {@link #underTerm} starts a write
 * only while the lease file still names a given holder and term; the lease can change hands while
 * that write runs, so the write itself must be refused once a newer term wrote (the monitor's
 * status writes record their term and are compare-and-swaps, as on Kubernetes).
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
        while (true) {
            VersionedFile.Version version = VersionedFile.latest(file);
            Instant now = clock.instant();
            Optional<State> current = read(version);
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
            if (write(version, next)) {
                return OptionalLong.of(next.leaseTransitions());
            }
        }
    }

    /**
     * Runs {@code write} if the lease file still names {@code holder} under term {@code term};
     * empty, and nothing run, when it does not. No lock is held while {@code write} runs (a holder
     * frozen there would hold up every other): a successor may take the lease meanwhile, so the
     * write must be a compare-and-swap that a successor's first write supersedes. Expiry is
     * deliberately not judged here: as long as nobody else took the lease, no newer term exists
     * that the write could overtake.
     */
    public static <T> Optional<T> underTerm(Path file, String holder, long term, Supplier<T> write) {
        Optional<State> current = read(file, VersionedFile.latest(file));
        if (current.isEmpty() || !holder.equals(current.get().holderIdentity()) || current.get().leaseTransitions() != term) {
            return Optional.empty();
        }
        return Optional.of(write.get());
    }

    /** Gives the lease up at once if this identity holds it, so another can take it without waiting. */
    public synchronized void release() {
        while (true) {
            VersionedFile.Version version = VersionedFile.latest(file);
            Optional<State> mine = read(version).filter(s -> identity.equals(s.holderIdentity()));
            if (mine.isEmpty() || write(version, new State(null, mine.get().acquireTimeMillis(), mine.get().renewTimeMillis(),
                    mine.get().leaseDurationMillis(), mine.get().leaseTransitions()))) {
                return;
            }
        }
    }

    /** The current unexpired holder, if any. */
    public synchronized Optional<String> holder() {
        return read(VersionedFile.latest(file)).filter(s -> s.holderIdentity() != null && (identity.equals(s.holderIdentity()) || !expired(s)))
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

    private Optional<State> read(VersionedFile.Version version) {
        return read(file, version);
    }

    private static Optional<State> read(Path file, VersionedFile.Version version) {
        while (true) {
            Optional<State> state = version.content().flatMap(f -> StateFiles.readJson(JSON, f, State.class, RECOVERY));
            // empty although the version has content: cleaned up after newer ones since: read the latest
            if (state.isPresent() || version.content().isEmpty()) {
                return state;
            }
            version = VersionedFile.latest(file);
        }
    }

    /** False when another writer wrote a newer version first. */
    private boolean write(VersionedFile.Version base, State state) {
        try {
            return VersionedFile.write(file, base, JSON.writeValueAsBytes(state));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a lease state always serializes", e);
        }
    }
}
