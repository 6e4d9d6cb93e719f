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
     * The first segment of {@code ranges} the archive does not hold, empty when it holds them all:
     * a backup is complete only then.
     */
    public static Optional<WalFileName> firstMissing(List<WalRange> ranges, long segmentSize, Collection<WalFileName> archived) {
        for (WalRange r : ranges) {
            for (WalFileName s : r.segments(segmentSize)) {
                if (!archived.contains(s)) {
                    return Optional.of(s);
                }
            }
        }
        return Optional.empty();
    }
}
