package io.pgha.backup.core;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Which completed base backups and which WAL files retention may remove. Backups are ordered by
 * their end (across timelines: a backup taken after a failover on a higher timeline is newer if it
 * ended later, whatever its timeline number). Kept are:
 * <ul>
 *   <li>every backup that ended inside the recovery window,</li>
 *   <li>the newest backup that ended before the window's start, since a restore to the window's
 *   start begins from it,</li>
 *   <li>the newest {@code minBackups}, whatever their age.</li>
 * </ul>
 * A restore in progress holds a lease on the whole prefix ({@link RestoreLease}); retention then
 * removes nothing at all, so this plan is only made while no lease is held.
 * WAL is needed from the begin segment of the oldest kept backup on, on every timeline (a restore
 * follows timeline switches, and what it follows is decided then, not now); timeline history files
 * are always kept (they are tiny and tell a restore where each timeline forked). Nothing is removed
 * while no backup is complete: the archive is then the only copy of history.
 */
public final class Retention {
    private Retention() {
    }

    /**
     * The outcome: the backups kept and removed (oldest first by end), the first WAL position still
     * needed (empty: keep all WAL), and the recoverable window's new start (the end of the oldest kept backup).
     */
    public record Plan(List<BackupInfo> kept, List<BackupInfo> expired, Optional<WalFileName> oldestWalNeeded,
                       Optional<Instant> windowStart) {
        /** Whether {@code file} (a segment, partial or backup history file) lies before every kept backup's WAL. */
        public boolean walExpired(WalFileName file) {
            if (file.kind() == WalFileName.Kind.HISTORY || oldestWalNeeded.isEmpty()) {
                return false;
            }
            return position(file).compareTo(position(oldestWalNeeded.get())) < 0;
        }
    }

    /** Ordered by end, then by name so that equal ends are decided the same way every time. */
    public static final Comparator<BackupInfo> BY_END = Comparator.comparing((BackupInfo b) -> Instant.parse(b.finishedAt()))
            .thenComparing(BackupInfo::name);

    public static Plan plan(List<BackupInfo> completed, Duration recoveryWindow, int minBackups, Instant now) {
        if (minBackups < 1) {
            throw new IllegalArgumentException("minBackups must be at least 1, not " + minBackups);
        }
        List<BackupInfo> byEnd = new ArrayList<>(completed);
        byEnd.sort(BY_END);
        Instant windowStart = now.minus(recoveryWindow);
        Set<String> keep = new HashSet<>();
        BackupInfo newestBeforeWindow = null;
        for (BackupInfo b : byEnd) {
            if (Instant.parse(b.finishedAt()).isAfter(windowStart)) {
                keep.add(b.name());
            } else {
                newestBeforeWindow = b;
            }
        }
        if (newestBeforeWindow != null) {
            keep.add(newestBeforeWindow.name());
        }
        for (int i = Math.max(0, byEnd.size() - minBackups); i < byEnd.size(); i++) {
            keep.add(byEnd.get(i).name());
        }
        List<BackupInfo> kept = byEnd.stream().filter(b -> keep.contains(b.name())).toList();
        List<BackupInfo> expired = byEnd.stream().filter(b -> !keep.contains(b.name())).toList();
        Optional<WalFileName> oldestWal = kept.stream().map(b -> WalFileName.parse(b.beginWal()))
                .min(Comparator.comparing(Retention::position));
        Optional<Instant> start = kept.stream().map(b -> Instant.parse(b.finishedAt())).min(Comparator.naturalOrder());
        return new Plan(kept, expired, oldestWal, start);
    }

    /** A WAL file's place in the log, its timeline left out: log and segment as 16 hex digits. */
    private static String position(WalFileName file) {
        return file.name().substring(8, 24);
    }
}
