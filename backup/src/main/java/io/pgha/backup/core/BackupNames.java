package io.pgha.backup.core;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Collection;
import java.util.Locale;

/**
 * Base backup names: {@code <cluster>-<yyyyMMdd't'HHmmss'z'>} in UTC, lower case, so that a name is
 * a valid Kubernetes object name, sorts by time, and says when the backup began.
 */
public final class BackupNames {
    private static final DateTimeFormatter STAMP = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'", Locale.ROOT)
            .withZone(ZoneOffset.UTC);

    private BackupNames() {
    }

    /**
     * The name of a backup that starts at {@code now}. Names are per second; when {@code taken}
     * already holds that second's name (two backups within a second), the next free second is used,
     * so a name is never reused and the order of names stays the order of backups.
     */
    public static String next(String cluster, Instant now, Collection<String> taken) {
        Instant at = now;
        while (true) {
            String name = (cluster + "-" + STAMP.format(at)).toLowerCase(Locale.ROOT);
            if (!taken.contains(name)) {
                return name;
            }
            at = at.plusSeconds(1);
        }
    }

    /**
     * Who a restore drill of {@code cluster} holds its lease on the prefix as, in the place of a
     * restoring cluster's name (a cluster name has at most 40 characters, so this fits a lease
     * holder's DNS label).
     */
    public static String drillLeaseHolder(String cluster) {
        return cluster + "-drill";
    }
}
