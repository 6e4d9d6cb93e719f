package io.pgha.local.store;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.pgha.local.StateFiles;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

/**
 * A lease in a file, the local stand-in for a Kubernetes Lease: one holder at a time, valid until
 * its last renewal plus the lease duration. Every read-modify-write happens under the file's lock.
 * A holder that stops renewing loses the lease when it expires; there is no other way to take it.
 */
public final class FileLease {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** A lease file says only who leads now: without it, the next holder simply takes a fresh lease. */
    private static final String RECOVERY = "it only records which monitor leads: stop pgha ('pgha down'), delete it, "
            + "and start again ('pgha up')";

    /** What the lease file holds, named after the fields of a Kubernetes Lease spec. */
    public record State(String holderIdentity, long acquireTimeMillis, long renewTimeMillis,
                        long leaseDurationMillis, int leaseTransitions) {
        boolean expiredAt(Instant now) {
            return now.toEpochMilli() > renewTimeMillis + leaseDurationMillis;
        }
    }

    private final Path file;
    private final String identity;
    private final Duration duration;
    private final Clock clock;

    public FileLease(Path file, String identity, Duration duration, Clock clock) {
        this.file = file;
        this.identity = identity;
        this.duration = duration;
        this.clock = clock;
    }

    /**
     * Takes the lease when it is free or expired, renews it when this identity holds it. Returns
     * whether this identity holds the lease now, valid for the lease duration from now.
     */
    public boolean tryAcquireOrRenew() {
        return FileLocks.withLock(lockFile(), () -> {
            Instant now = clock.instant();
            Optional<State> current = read();
            State next;
            if (current.isPresent() && identity.equals(current.get().holderIdentity())) {
                State c = current.get();
                next = new State(identity, c.acquireTimeMillis(), now.toEpochMilli(), duration.toMillis(), c.leaseTransitions());
            } else if (current.isEmpty() || current.get().holderIdentity() == null || current.get().expiredAt(now)) {
                int transitions = current.map(s -> s.leaseTransitions() + 1).orElse(0);
                next = new State(identity, now.toEpochMilli(), now.toEpochMilli(), duration.toMillis(), transitions);
            } else {
                return false;
            }
            write(next);
            return true;
        });
    }

    /** Gives the lease up at once if this identity holds it, so another can take it without waiting. */
    public void release() {
        FileLocks.withLock(lockFile(), () -> {
            read().filter(s -> identity.equals(s.holderIdentity())).ifPresent(s -> write(
                    new State(null, s.acquireTimeMillis(), s.renewTimeMillis(), s.leaseDurationMillis(), s.leaseTransitions())));
            return null;
        });
    }

    /** The current unexpired holder, if any. */
    public Optional<String> holder() {
        Instant now = clock.instant();
        return read().filter(s -> s.holderIdentity() != null && !s.expiredAt(now)).map(State::holderIdentity);
    }

    private Optional<State> read() {
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
        return file.resolveSibling(file.getFileName() + ".lock");
    }
}
