package io.pgha.monitor.core;

import io.pgha.api.SynchronousStandbyNames;
import io.pgha.api.postgres.Lsn;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

/**
 * How many synchronous standbys actually confirm the primary's commits now, which is what decides
 * whether commits block: {@code sync_state = 'quorum'} only says a standby is listed and
 * connected, not that it still flushes. A standby confirms when its last reply is recent and its
 * flush position keeps up: it advanced since the previous sample, or it reached what the primary
 * had written at the previous sample (an idle primary writes nothing for it to advance on).
 * Stateful across samples of one primary; no I/O.
 */
public final class QuorumConfirmation {
    /**
     * pgha sets wal_receiver_status_interval to 1 s, so a standby that works replies every second
     * at least; one silent for this long has a stuck WAL receiver or is cut off.
     */
    public static final Duration REPLY_RECENT = Duration.ofSeconds(5);

    private String primary;
    private Lsn previousCurrent;
    private final Map<String, Lsn> previousFlush = new HashMap<>();

    /** The number of standbys that must confirm a commit: 0 when replication is asynchronous. */
    public static int required(String synchronousStandbyNames) {
        try {
            return SynchronousStandbyNames.parse(synchronousStandbyNames).map(SynchronousStandbyNames.Setting::number).orElse(0);
        } catch (IllegalArgumentException e) {
            return 0;
        }
    }

    /** The standbys confirming in this sample of {@code primaryName}; remembers it for the next. */
    public int confirming(String primaryName, PgHealth.Primary sample) {
        if (!primaryName.equals(primary)) {
            primary = primaryName;
            previousCurrent = null;
            previousFlush.clear();
        }
        int confirming = 0;
        Map<String, Lsn> flushes = new HashMap<>();
        for (PgHealth.Replica r : sample.replicas()) {
            boolean synchronous = "sync".equals(r.syncState()) || "quorum".equals(r.syncState());
            if (r.flushLsn() != null) {
                flushes.put(r.name(), r.flushLsn());
            }
            if (!synchronous || r.flushLsn() == null || r.replyAgeSeconds() == null
                    || r.replyAgeSeconds() > REPLY_RECENT.toMillis() / 1000.0) {
                continue;
            }
            Lsn before = previousFlush.get(r.name());
            boolean advanced = before != null && r.flushLsn().isAfter(before);
            // the first sample has nothing to compare with: the standby must have everything now
            Lsn mark = previousCurrent == null ? sample.currentLsn() : previousCurrent;
            if (advanced || r.flushLsn().isAtLeast(mark)) {
                confirming++;
            }
        }
        previousFlush.clear();
        previousFlush.putAll(flushes);
        previousCurrent = sample.currentLsn();
        return confirming;
    }
}
