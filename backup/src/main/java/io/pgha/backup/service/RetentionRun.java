package io.pgha.backup.service;

import io.pgha.api.v1.backup.PostgresBackup;
import io.pgha.backup.core.BackupInfo;
import io.pgha.backup.core.BackupPhase;
import io.pgha.backup.core.RepositoryLayout;
import io.pgha.backup.core.RestoreLease;
import io.pgha.backup.core.Retention;
import io.pgha.backup.repository.Repository;
import io.pgha.backup.restore.RestoreLeases;

import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * One pass of retention over a prefix: the {@link Retention} plan carried out against the
 * repository. Nothing is removed while a restore holds a lease on the prefix, and the leases are
 * read again before each backup and before the WAL, so a restore that starts meanwhile stops the
 * pass (what can still go is the one object being deleted when its lease appeared, which belongs
 * to an expired backup the restore has not yet listed, or to WAL only such a backup needs).
 */
public final class RetentionRun {
    /** How often retention looks at a repository (it lists every WAL object). */
    public static final Duration EVERY = Duration.ofSeconds(15);

    private RetentionRun() {
    }

    /** What the pass did: the plan, the backups and WAL files removed, and the restore that stopped it (or null). */
    public record Outcome(Retention.Plan plan, List<String> removed, int walRemoved, String heldBy) {
        public boolean acted() {
            return !removed.isEmpty() || walRemoved > 0;
        }

        /**
         * The line to write into status.backup.lastRetention, whose value is {@code previous}: a
         * quiet pass does not replace the report of the last one that removed something.
         */
        public Optional<String> statusLine(Instant now, String previous) {
            String report = report(now);
            boolean replaces = acted() || heldBy != null || previous == null || !previous.contains(": ");
            return replaces && !report.equals(previous) ? Optional.of(report) : Optional.empty();
        }

        /** One line for status.backup.lastRetention; the time only when something was removed. */
        public String report(Instant now) {
            return (acted() ? now.truncatedTo(ChronoUnit.SECONDS) + ": " : "")
                    + (heldBy != null ? "removed nothing more: " + heldBy + " holds a lease"
                    : "kept " + plan.kept().size() + " backups" + plan.windowStart().map(s -> ", recoverable from " + s).orElse(""))
                    + (removed.isEmpty() ? "" : "; removed backups " + String.join(", ", removed))
                    + (walRemoved == 0 ? "" : "; removed " + walRemoved + " WAL files");
        }
    }

    /**
     * @param forget called with the name of each backup removed from the repository (its
     *               PostgresBackup object goes too)
     */
    public static Outcome apply(Repository repository, RepositoryLayout layout, List<BackupInfo> completed, Duration window,
                         int minBackups, Instant now, Consumer<String> forget) throws IOException {
        Retention.Plan plan = Retention.plan(completed, window, minBackups, now);
        List<String> removed = new ArrayList<>();
        String held = holder(repository, layout);
        for (BackupInfo b : plan.expired()) {
            if (held != null || (held = holder(repository, layout)) != null) {
                break;
            }
            // backup.json first: without it the backup is no longer offered to anyone listing meanwhile
            repository.delete(layout.backupInfoKey(b.name()));
            for (String key : repository.list(layout.backupPrefix(b.name()))) {
                repository.delete(key);
            }
            forget.accept(b.name());
            removed.add(b.name());
        }
        int wal = 0;
        if (held == null && (held = holder(repository, layout)) == null) {
            for (String key : repository.list(layout.walPrefix())) {
                if (layout.walFileOf(key).filter(plan::walExpired).isPresent()) {
                    repository.delete(key);
                    wal++;
                }
            }
        }
        return new Outcome(plan, removed, wal, held);
    }

    /**
     * Whether backup {@code b}'s object goes with a pass whose recovery window starts at
     * {@code windowStart}: a Failed backup that ended before every kept one tells nothing anyone
     * can still use.
     */
    public static boolean failedBefore(PostgresBackup b, Instant windowStart) {
        String finished = b.getStatus() == null ? null : b.getStatus().finishedAt;
        return finished != null && b.getStatus().phase != null
                && BackupPhase.of(b.getStatus().phase) == BackupPhase.FAILED
                && Instant.parse(finished).isBefore(windowStart);
    }

    /** The restoring cluster holding a live lease on the prefix, or null when there is none. */
    private static String holder(Repository repository, RepositoryLayout layout) throws IOException {
        return RestoreLeases.live(repository, layout, Instant.now()).stream().map(RestoreLease::restoringCluster)
                .findFirst().orElse(null);
    }
}
