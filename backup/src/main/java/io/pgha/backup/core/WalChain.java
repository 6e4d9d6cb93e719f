package io.pgha.backup.core;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The WAL segments a backup needs on its timeline, and the first hole in them: from its begin to
 * its end segment (without them the backup never becomes consistent), then on to the newest
 * segment archived on that timeline (without them point-in-time recovery stops at the hole).
 */
public final class WalChain {
    private WalChain() {
    }

    /** A missing segment; {@code inBackup} when it lies within the backup's own range. */
    public record Gap(WalFileName segment, boolean inBackup) {
        public String describe(String backup) {
            return inBackup
                    ? "WAL segment " + segment.name() + " of backup " + backup + "'s range is missing from the archive: the backup cannot be restored"
                    : "WAL segment " + segment.name() + " after backup " + backup + " is missing from the archive: recovery from it stops before "
                    + segment.name();
        }
    }

    /** The segments from {@code begin} through {@code newest} (or through {@code end} when newest is older), in order. */
    public static List<WalFileName> segments(WalFileName begin, WalFileName end, WalFileName newest, long segmentSize) {
        WalFileName last = newest.timeline() == begin.timeline() && newest.position() > end.position() ? newest : end;
        List<WalFileName> result = new ArrayList<>();
        for (WalFileName s = begin; s.position() <= last.position(); s = s.next(segmentSize)) {
            result.add(s);
        }
        return result;
    }

    /** The first of {@link #segments} not in {@code stored} (names of segments), if any. */
    public static Optional<Gap> firstGap(WalFileName begin, WalFileName end, WalFileName newest, long segmentSize,
                                         Set<String> stored) {
        for (WalFileName s : segments(begin, end, newest, segmentSize)) {
            if (!stored.contains(s.name())) {
                return Optional.of(new Gap(s, s.position() <= end.position()));
            }
        }
        return Optional.empty();
    }
}
