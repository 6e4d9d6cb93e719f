package io.pgha.backup.core;

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

    /**
     * The segment after this one on the same timeline. A log id holds 2^32 bytes, so with
     * {@code segmentBytes} per segment the segment number wraps at 2^32 / segmentBytes.
     */
    public WalFileName nextSegment(long segmentBytes) {
        long perLog = 0x1_0000_0000L / segmentBytes;
        long seg = segment + 1;
        long nextLog = log;
        if (seg >= perLog) {
            seg = 0;
            nextLog++;
        }
        return parse(String.format("%08X%08X%08X", timeline, nextLog, seg));
    }

    /** Orders by timeline, then position; only meaningful between segment-like names. */
    @Override
    public int compareTo(WalFileName o) {
        int t = Long.compare(timeline, o.timeline);
        return t != 0 ? t : Long.compare(position(), o.position());
    }
}
