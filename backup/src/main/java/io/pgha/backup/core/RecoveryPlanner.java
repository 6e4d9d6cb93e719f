package io.pgha.backup.core;

import io.pgha.api.postgres.Lsn;
import io.pgha.api.v1.cluster.BootstrapSpec;

import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.function.Predicate;

/**
 * Which backup a restore starts from, and whether its target can be reached at all, decided before
 * anything starts: PostgreSQL itself only finds out at the end of the WAL, after a long replay
 * ("recovery ended before configured recovery target was reached"). Pure: the backups and a
 * summary of the archived WAL after the first of them come in, a plan or a refusal naming the
 * recoverable window comes out.
 */
public final class RecoveryPlanner {
    private static final long XID_MASK = 0xFFFFFFFFL;

    private RecoveryPlanner() {
    }

    public sealed interface Outcome {
    }

    /** Restore {@code backup}, then replay to the target. */
    public record Plan(BackupInfo backup, String window) implements Outcome {
    }

    /** The target cannot be reached; the message names the window. */
    public record Refusal(String message) implements Outcome {
    }

    /**
     * Whether planning a restore to {@code target} needs the archived WAL read at all: the end of
     * the archive (null) and the end of a backup ({@code immediate}) are reached by any archive
     * that holds the backup's WAL, which restore_command checks segment by segment as it fetches.
     */
    public static boolean needsWal(BootstrapSpec.Target target) {
        return target != null && !Boolean.TRUE.equals(target.immediate)
                && (target.time != null || target.lsn != null || target.xid != null || target.name != null);
    }

    /**
     * Whether the newest part of the archive, read backwards from its end, is enough to plan a
     * restore to {@code target}: it holds the last commit or abort (where the window ends, and
     * what a time target must come before), the last record (an LSN target's limit) and, for a
     * restore point or an xid, the newest record naming it (the one {@link #plan} stops at). The
     * archive is read no further, so a restore to a recent point reads its tail, not all of it;
     * only a name or xid that is not there at all makes it read everything, to refuse.
     */
    public static boolean enough(BootstrapSpec.Target target, WalSummary newest) {
        if (newest.lastTransactionEnd().isEmpty()) {
            return false;
        }
        if (target.xid != null) {
            long xid = target.xid & XID_MASK;
            return newest.transactionEnds().stream().anyMatch(e -> e.xid() == xid);
        }
        if (target.name != null) {
            return newest.restorePoints().stream().anyMatch(r -> r.name().equals(target.name));
        }
        return true;
    }

    /**
     * @param backups complete backups (any order)
     * @param requested the backup the spec names, or null
     * @param target the spec's target, or null for the end of the archive
     * @param wal the archived WAL up to where it stops being contiguous after the first backup's
     *            begin: all of it, or its newest part as far as {@link #enough} needed; empty when
     *            the target does not {@link #needsWal}
     */
    public static Outcome plan(String prefix, List<BackupInfo> backups, String requested, BootstrapSpec.Target target,
                               WalSummary wal) {
        if (backups.isEmpty()) {
            return new Refusal("prefix '" + prefix + "' of the repository holds no complete backup to restore from");
        }
        List<BackupInfo> byEnd = backups.stream().sorted(Comparator.comparingLong(RecoveryPlanner::endOf)).toList();
        String window = window(prefix, byEnd.get(0), wal);
        List<BackupInfo> usable = byEnd;
        if (requested != null) {
            Optional<BackupInfo> named = byEnd.stream().filter(b -> b.name().equals(requested)).findFirst();
            if (named.isEmpty()) {
                return new Refusal("backup '" + requested + "' is not in prefix '" + prefix + "' (complete backups: "
                        + byEnd.stream().map(BackupInfo::name).toList() + ")");
            }
            usable = List.of(named.get());
        }
        if (target == null || Boolean.TRUE.equals(target.immediate)) {
            return new Plan(usable.get(usable.size() - 1), window);
        }
        long position;
        Predicate<BackupInfo> endsBefore;
        String what;
        if (target.time != null) {
            Instant time = OffsetDateTime.parse(target.time).toInstant();
            what = "target time " + target.time;
            // recovery_target_time is checked at commit and abort records: one must come after the target
            Optional<WalSummary.TransactionEnd> stop = wal.transactionEnds().stream()
                    .filter(e -> target.inclusive ? e.time().isAfter(time) : !e.time().isBefore(time)).findFirst();
            if (stop.isEmpty()) {
                return new Refusal(what + " is not before the last commit or abort in the archive: " + window);
            }
            position = stop.get().lsn();
            endsBefore = b -> !Instant.parse(b.finishedAt()).isAfter(time);
        } else if (target.lsn != null) {
            position = Lsn.parse(target.lsn).value();
            what = "target LSN " + target.lsn;
            if (position > wal.lastRecordLsn()) {
                return new Refusal(what + " is beyond the last WAL record in the archive: " + window);
            }
            long p = position;
            endsBefore = b -> endOf(b) <= p;
        } else if (target.xid != null) {
            what = "target xid " + target.xid;
            long xid = target.xid & XID_MASK;
            Optional<WalSummary.TransactionEnd> end = wal.transactionEnds().stream().filter(e -> e.xid() == xid)
                    .reduce((a, b) -> b);
            if (end.isEmpty()) {
                return new Refusal(what + " has no commit or abort record in the archive after the first backup: " + window);
            }
            position = end.get().lsn();
            endsBefore = b -> endOf(b) <= end.get().lsn();
        } else if (target.name != null) {
            what = "restore point '" + target.name + "'";
            Optional<WalSummary.RestorePoint> point = wal.restorePoints().stream().filter(r -> r.name().equals(target.name))
                    .reduce((a, b) -> b);
            if (point.isEmpty()) {
                return new Refusal(what + " is not in the archive after the first backup (restore points there: "
                        + wal.restorePoints().stream().map(WalSummary.RestorePoint::name).distinct().toList() + "): " + window);
            }
            position = point.get().lsn();
            endsBefore = b -> endOf(b) <= point.get().lsn();
        } else {
            return new Plan(usable.get(usable.size() - 1), window);
        }
        Optional<BackupInfo> chosen = usable.stream().filter(endsBefore).reduce((a, b) -> b);
        if (chosen.isEmpty()) {
            String stop = target.time != null ? "" : " (LSN " + new Lsn(position) + ")";
            return new Refusal(what + (requested != null ? " is before the end of backup '" + requested + "'"
                    : " is before the end of the first backup") + stop + ": " + window);
        }
        return new Plan(chosen.get(), window);
    }

    private static long endOf(BackupInfo backup) {
        return Lsn.parse(backup.endLsn()).value();
    }

    /** "prefix 'pg' can be recovered from ... to ...", the words every refusal ends with. */
    static String window(String prefix, BackupInfo first, WalSummary wal) {
        // the same rule as pgha backups' window (RecoverableWindow): a last commit older than the backup's end is no later point
        String from = "prefix '" + prefix + "' can be recovered from " + first.finishedAt() + " (end of backup " + first.name()
                + ", LSN " + first.endLsn() + ") to ";
        if (wal.lastRecordLsn() == 0) {
            return from + "the end of its archive";
        }
        Instant firstEnd = Instant.parse(first.finishedAt());
        String to = wal.lastTransactionEnd().filter(e -> e.time().isAfter(firstEnd)).map(e -> e.time() + " (the last commit or abort, LSN " + new Lsn(e.lsn()) + ")")
                .orElse("the end of backup " + first.name() + " (no commit or abort archived after it)");
        return from + to + ", or to LSN " + new Lsn(wal.lastRecordLsn());
    }
}
