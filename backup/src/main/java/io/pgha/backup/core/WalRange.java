package io.pgha.backup.core;

import io.pgha.api.postgres.Lsn;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Optional;

/**
 * WAL a base backup needs to be consistent: from {@code start} to {@code end} on one timeline, as
 * the backup manifest's WAL-Ranges lists them (more than one when the timeline changed during a
 * backup taken from a standby).
 */
public record WalRange(long timeline, Lsn start, Lsn end) {
    public WalRange {
        if (end.compareTo(start) < 0) {
            throw new IllegalArgumentException("WAL range ends at " + end + " before its start " + start);
        }
    }

    /** Every segment the range touches, oldest first. */
    public List<WalFileName> segments(long segmentSize) {
        WalFileName first = WalFileName.segmentOf(timeline, start, segmentSize);
        WalFileName last = end.equals(start) ? first : WalFileName.segmentBefore(timeline, end, segmentSize);
        List<WalFileName> all = new ArrayList<>();
        for (WalFileName s = first; s.compareTo(last) <= 0; s = s.next(segmentSize)) {
            all.add(s);
        }
        return all;
    }

    /**
     * Every segment a restore of a backup with WAL {@code ranges} reads to reach its end, oldest
     * first: the segments the ranges touch, and, when the last range ends on a segment boundary,
     * the segment that starts there. PostgreSQL stops at a recovery target (recovery_target =
     * 'immediate' included) only once it has read the record after it, so a backup taken from a
     * standby just after a WAL switch (its end is the switch's end, the next segment's first byte)
     * cannot be restored to its end from the segments its range touches alone.
     */
    public static List<WalFileName> needed(List<WalRange> ranges, long segmentSize) {
        List<WalFileName> all = new ArrayList<>();
        for (WalRange r : ranges) {
            all.addAll(r.segments(segmentSize));
        }
        WalRange last = ranges.get(ranges.size() - 1);
        if (!last.end.equals(last.start) && Long.remainderUnsigned(last.end.value(), segmentSize) == 0) {
            all.add(WalFileName.segmentOf(last.timeline, last.end, segmentSize));
        }
        return all;
    }

    /**
     * The first segment {@link #needed} for {@code ranges} that the archive does not hold, empty
     * when it holds them all: a backup is complete only then.
     */
    public static Optional<WalFileName> firstMissing(List<WalRange> ranges, long segmentSize, Collection<WalFileName> archived) {
        return needed(ranges, segmentSize).stream().filter(s -> !archived.contains(s)).findFirst();
    }
}
