package io.pgha.api.postgres;

import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;

/**
 * A timeline's history file ({@code pg_wal/0000000N.history} on a server on timeline N): one line
 * per ancestor timeline, oldest first, each {@code tli<TAB>switchpoint<TAB>reason}, where the
 * switchpoint is the LSN at which the next timeline forked off that ancestor.
 */
public record TimelineHistory(List<Fork> forks) {

    /** Timeline {@code parent} ended at {@code switchpoint} (a byte position) for the timeline after it. */
    public record Fork(int parent, long switchpoint, String reason) {
    }

    public TimelineHistory {
        forks = List.copyOf(forks);
    }

    /** The history file's path relative to a data directory, as pg_read_file takes it. */
    public static String file(int timeline) {
        return String.format("pg_wal/%08X.history", timeline);
    }

    /** Parses a history file; blank lines and # comments are skipped, as PostgreSQL does. */
    public static TimelineHistory parse(String content) {
        List<Fork> forks = new ArrayList<>();
        for (String line : content.split("\n")) {
            String l = line.strip();
            if (l.isEmpty() || l.startsWith("#")) {
                continue;
            }
            String[] f = l.split("\\s+", 3);
            if (f.length < 2) {
                throw new IllegalArgumentException("not a timeline history line: " + line);
            }
            try {
                forks.add(new Fork(Integer.parseInt(f[0]), Lsn.parse(f[1]).value(), f.length == 3 ? f[2] : ""));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("not a timeline history line: " + line, e);
            }
        }
        return new TimelineHistory(forks);
    }

    /** Where this history left {@code timeline}; empty when that timeline is not one of its ancestors. */
    public OptionalLong forkPoint(int timeline) {
        return forks.stream().filter(f -> f.parent() == timeline).mapToLong(Fork::switchpoint).findFirst();
    }
}
