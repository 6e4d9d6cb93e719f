package io.pgha.backup.core;

import io.pgha.api.postgres.Lsn;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A file PostgreSQL hands to archive_command or asks of restore_command: a WAL segment
 * (timeline, log and segment as 24 hex digits), a partial segment, a timeline history file or a
 * backup history file. Parsing is strict so that nothing but these names ever reaches a repository path.
 */
public record WalFileName(String name, Kind kind, long timeline, long log, long segment) implements Comparable<WalFileName> {
    public enum Kind { SEGMENT, PARTIAL, HISTORY, BACKUP_LABEL }

    private static final String HEX8 = "[0-9A-F]{8}";
    private static final Pattern SEGMENT = Pattern.compile("(" + HEX8 + ")(" + HEX8 + ")(" + HEX8 + ")");
    private static final Pattern PARTIAL = Pattern.compile(SEGMENT.pattern() + "\\.partial");
    private static final Pattern BACKUP = Pattern.compile(SEGMENT.pattern() + "\\." + HEX8 + "\\.backup");
    private static final Pattern HISTORY = Pattern.compile("(" + HEX8 + ")\\.history");

    /** Throws IllegalArgumentException naming the file when it is not a WAL file name. */
    public static WalFileName parse(String name) {
        if (name == null) {
            throw new IllegalArgumentException("no WAL file name");
        }
        Matcher m;
        if ((m = SEGMENT.matcher(name)).matches()) {
            return of(name, Kind.SEGMENT, m);
        }
        if ((m = PARTIAL.matcher(name)).matches()) {
            return of(name, Kind.PARTIAL, m);
        }
        if ((m = BACKUP.matcher(name)).matches()) {
            return of(name, Kind.BACKUP_LABEL, m);
        }
        if ((m = HISTORY.matcher(name)).matches()) {
            return new WalFileName(name, Kind.HISTORY, Long.parseLong(m.group(1), 16), 0, 0);
        }
        throw new IllegalArgumentException("not a WAL file name: " + name);
    }

    /** True when {@code name} is a whole segment's: 24 hex digits. */
    public static boolean isSegment(String name) {
        return SEGMENT.matcher(name).matches();
    }

    /**
     * The segment that holds {@code lsn} on {@code timeline}, for segments of {@code segmentSize}
     * bytes (a power of two from 1 MiB to 1 GiB): PostgreSQL's XLByteToSeg and XLogFileName.
     */
    public static WalFileName segmentOf(long timeline, Lsn lsn, long segmentSize) {
        return segment(timeline, Long.divideUnsigned(lsn.value(), segmentSize), segmentSize);
    }

    /**
     * The last segment a WAL range that ends at {@code end} needs: the one holding the byte before
     * {@code end} (PostgreSQL's XLByteToPrevSeg), since an end on a segment boundary needs nothing
     * of the next segment.
     */
    public static WalFileName segmentBefore(long timeline, Lsn end, long segmentSize) {
        return segment(timeline, Long.divideUnsigned(end.value() - 1, segmentSize), segmentSize);
    }

    /** The segment after this one on the same timeline. */
    public WalFileName next(long segmentSize) {
        if (kind != Kind.SEGMENT) {
            throw new IllegalStateException("not a WAL segment: " + name);
        }
        return segment(timeline, log * segmentsPerLog(segmentSize) + segment + 1, segmentSize);
    }

    private static WalFileName segment(long timeline, long segmentNumber, long segmentSize) {
        long perLog = segmentsPerLog(segmentSize);
        return parse(String.format("%08X%08X%08X", timeline, segmentNumber / perLog, segmentNumber % perLog));
    }

    /** The log part of a name counts 4 GiB of WAL; the segment part counts segments within it. */
    private static long segmentsPerLog(long segmentSize) {
        if (segmentSize <= 0 || Long.bitCount(segmentSize) != 1 || segmentSize > (1L << 30)) {
            throw new IllegalArgumentException("not a WAL segment size: " + segmentSize);
        }
        return (1L << 32) / segmentSize;
    }

    private static WalFileName of(String name, Kind kind, Matcher m) {
        return new WalFileName(name, kind, Long.parseLong(m.group(1), 16), Long.parseLong(m.group(2), 16),
                Long.parseLong(m.group(3), 16));
    }

    /** The timeline as PostgreSQL writes it in file names: 8 hex digits. */
    public String timelineHex() {
        return String.format("%08X", timeline);
    }

    /**
     * Position of the segment on its timeline. Log and segment are each 32 bits, so this orders
     * segments correctly whatever the WAL segment size.
     */
    public long position() {
        return (log << 32) | segment;
    }

    /** Orders by timeline, then position; only meaningful between segment-like names. */
    @Override
    public int compareTo(WalFileName o) {
        int t = Long.compare(timeline, o.timeline);
        return t != 0 ? t : Long.compare(position(), o.position());
    }
}
