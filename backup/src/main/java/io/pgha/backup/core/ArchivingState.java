package io.pgha.backup.core;

import io.pgha.api.v1.Condition;
import io.pgha.api.v1.ConditionTypes;

import java.time.Instant;
import java.util.Collection;
import java.util.Optional;

/**
 * What the backup service knows about one cluster's continuous archiving, and the
 * ContinuousArchiving condition it makes of it (the backup service owns that condition type).
 *
 * @param lastArchived     the newest WAL file a push stored or found stored, and when
 * @param lastFailure      the latest push that failed, when and with what one-line reason
 * @param repositoryProblem why the repository cannot be written right now (a probe), empty when it can
 */
public record ArchivingState(Optional<Event> lastArchived, Optional<Event> lastFailure, Optional<String> repositoryProblem) {
    public static final String REASON_ARCHIVING = "Archiving";
    public static final String REASON_WAITING = "NothingArchivedYet";
    public static final String REASON_PUSH_FAILING = "PushFailing";
    public static final String REASON_REPOSITORY_UNWRITABLE = "RepositoryUnwritable";

    /** One push: the file, when, and for a failure its reason. */
    public record Event(String file, Instant at, String message) {
    }

    public static final ArchivingState NONE = new ArchivingState(Optional.empty(), Optional.empty(), Optional.empty());

    /**
     * False when the repository cannot be written, or when the latest push failed (no push has
     * succeeded since); True otherwise. A failing push turns it False at once, and the next
     * success turns it back.
     */
    public Condition condition() {
        if (repositoryProblem.isPresent()) {
            return new Condition(ConditionTypes.CONTINUOUS_ARCHIVING, Condition.FALSE, REASON_REPOSITORY_UNWRITABLE,
                    repositoryProblem.get());
        }
        if (failing()) {
            Event f = lastFailure.orElseThrow();
            return new Condition(ConditionTypes.CONTINUOUS_ARCHIVING, Condition.FALSE, REASON_PUSH_FAILING,
                    f.message());
        }
        // a message that stays the same while all is well: the status is not rewritten with every push
        return lastArchived
                .map(a -> new Condition(ConditionTypes.CONTINUOUS_ARCHIVING, Condition.TRUE, REASON_ARCHIVING,
                        "WAL files reach the repository; status.backup.lastArchivedWal names the newest"))
                .orElseGet(() -> new Condition(ConditionTypes.CONTINUOUS_ARCHIVING, Condition.TRUE, REASON_WAITING,
                        "the repository is writable; no WAL file pushed yet"));
    }

    /** Whether the latest push failed: no success since the last failure. */
    public boolean failing() {
        return lastFailure.isPresent()
                && (lastArchived.isEmpty() || lastFailure.get().at().isAfter(lastArchived.get().at()));
    }

    public ArchivingState archived(String file, Instant at) {
        return new ArchivingState(Optional.of(new Event(file, at, "")), lastFailure, repositoryProblem);
    }

    public ArchivingState failed(String file, Instant at, String message) {
        return new ArchivingState(lastArchived, Optional.of(new Event(file, at, message)), repositoryProblem);
    }

    public ArchivingState probed(Optional<String> problem) {
        return new ArchivingState(lastArchived, lastFailure, problem);
    }

    /**
     * Segments waiting to be archived, as the metric reports them: the most any instance of the
     * cluster has marked ready ({@code archive_status/*.ready}). With archive_mode = always every
     * instance archives, and the slowest one is what a failover could lose.
     */
    public static long pendingSegments(Collection<Long> readyPerInstance) {
        return readyPerInstance.stream().mapToLong(Long::longValue).max().orElse(0);
    }
}
