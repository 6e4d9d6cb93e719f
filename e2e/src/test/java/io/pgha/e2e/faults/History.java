package io.pgha.e2e.faults;

import java.util.HashMap;
import java.util.Map;

/** A PostgreSQL timeline history file: one line per ancestor, "parent-timeline switchpoint reason". */
final class History {
    private History() {
    }

    /** Each ancestor timeline to the WAL position where it ended and its child began. */
    static Map<Integer, Long> switchpoints(String history) {
        Map<Integer, Long> forks = new HashMap<>();
        for (String line : history.split("\n")) {
            String l = line.strip();
            if (l.isEmpty() || l.startsWith("#")) {
                continue;
            }
            String[] f = l.split("\\s+");
            forks.put(Integer.parseInt(f[0]), parseLsn(f[1]));
        }
        return forks;
    }

    static long parseLsn(String lsn) {
        String[] parts = lsn.split("/");
        return (Long.parseLong(parts[0], 16) << 32) | Long.parseLong(parts[1], 16);
    }

    static String lsn(long lsn) {
        return String.format("%X/%X", lsn >>> 32, lsn & 0xFFFFFFFFL);
    }
}
