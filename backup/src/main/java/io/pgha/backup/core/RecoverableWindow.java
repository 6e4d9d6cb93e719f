package io.pgha.backup.core;

import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * The span of time a restore from a cluster's repository can reach, as {@code pgha backups} and
 * the cluster's status show it.
 *
 * @param from the end of the oldest completed backup: a restore cannot stop before its backup is consistent
 * @param to the time of the last commit or abort in the archive, or {@code from} when none came
 *           after it: {@code from} is when the backup service saw the backup complete, after the
 *           commits in the backup's WAL, so when nothing committed since (rows written, a backup,
 *           then quiet) the last commit is older than {@code from}, and a restore to the end of the
 *           archive gives the state at the backup's end
 */
public record RecoverableWindow(Instant from, Instant to) {
    /** Empty without a completed backup. */
    public static Optional<RecoverableWindow> of(List<BackupInfo> completed, Optional<Instant> lastTransactionEnd) {
        return BackupInfo.recoverableFrom(completed).map(from -> new RecoverableWindow(from,
                lastTransactionEnd.filter(t -> t.isAfter(from)).orElse(from)));
    }
}
