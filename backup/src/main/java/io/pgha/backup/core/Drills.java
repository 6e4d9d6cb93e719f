package io.pgha.backup.core;

import io.pgha.api.schedule.CronSchedule;
import io.pgha.api.v1.cluster.BackupStatus;

import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * When a scheduled restore drill ({@code spec.backup.verify}) is due, what it drills, and what it
 * reports. The last drill lives in status.backup (lastVerifiedAt, lastDrillFailureAt), so a
 * restarted service reads it back from there; a slot that passed while the service was down gives
 * one drill on its return, as for backups. A slot at which no completed backup exists is not
 * spent: the drill runs as soon as one does.
 */
public final class Drills {
    private Drills() {
    }

    /** The later of the last drill's success and failure times in {@code status}, if any drill ever ran. */
    public static Optional<Instant> lastDrill(BackupStatus status) {
        if (status == null) {
            return Optional.empty();
        }
        return Stream.of(status.lastVerifiedAt, status.lastDrillFailureAt).filter(t -> t != null)
                .map(Instant::parse).max(Instant::compareTo);
    }

    /**
     * Whether a drill is due at {@code now}: a slot of {@code verify} passed since the last drill,
     * or (when there never was one) since {@code firstSeen}, when this service began watching.
     */
    public static boolean due(CronSchedule verify, Optional<Instant> lastDrill, Instant firstSeen, Instant now) {
        return verify.due(lastDrill.orElse(firstSeen), now);
    }

    /** What a drill verifies: the newest completed backup (by its end), if there is one. */
    public static Optional<BackupInfo> subject(List<BackupInfo> completed) {
        return completed.stream().max(Retention.BY_END);
    }

    /**
     * The newest drill {@code status} records, when it was one of {@code backup}: empty when it was
     * not (or there was none), else its problem, itself empty when the drill passed. A failure is
     * matched by the backup's name in its problem, which {@link #record} makes sure it holds.
     */
    public static Optional<Optional<String>> newestOf(BackupStatus status, String backup) {
        if (status == null) {
            return Optional.empty();
        }
        Optional<Instant> passed = Optional.ofNullable(status.lastVerifiedAt).map(Instant::parse);
        Optional<Instant> failed = Optional.ofNullable(status.lastDrillFailureAt).map(Instant::parse);
        if (passed.isPresent() && (failed.isEmpty() || !passed.get().isBefore(failed.get()))) {
            return backup.equals(status.lastVerifiedBackup) ? Optional.of(Optional.empty()) : Optional.empty();
        }
        if (failed.isPresent() && status.lastDrillFailure != null && status.lastDrillFailure.contains("backup " + backup)) {
            return Optional.of(Optional.of(status.lastDrillFailure));
        }
        return Optional.empty();
    }

    /** Writes a drill's outcome into {@code status}: the backup verified, or the problem found (naming the file or segment). */
    public static void record(BackupStatus status, String backup, Optional<String> problem, Instant at) {
        String when = at.truncatedTo(ChronoUnit.SECONDS).toString();
        if (problem.isEmpty()) {
            status.lastVerifiedBackup = backup;
            status.lastVerifiedAt = when;
        } else {
            status.lastDrillFailure = problem.get().contains(backup) ? problem.get() : "backup " + backup + ": " + problem.get();
            status.lastDrillFailureAt = when;
        }
    }
}
