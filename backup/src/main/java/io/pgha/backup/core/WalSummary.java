package io.pgha.backup.core;

import io.pgha.api.postgres.Lsn;

import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeFormatterBuilder;
import java.time.temporal.ChronoField;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What a restore target can be checked against: the transaction ends (commit and abort records,
 * with their xid, position and time) and the restore points in a stretch of archived WAL, read
 * from pg_waldump's text output, and the end of the last record read.
 */
public final class WalSummary {
    /** A commit or an abort: where recovery_target_time and recovery_target_xid can stop. */
    public record TransactionEnd(long lsn, long xid, Instant time, boolean committed) {
    }

    /** A pg_create_restore_point() record. */
    public record RestorePoint(long lsn, String name) {
    }

    // rmgr: Transaction len (rec/tot):     66/    66, tx:        722, lsn: 0/015004B0, prev 0/01500438, desc: COMMIT 2026-12-04 22:26:03.995621 UTC; ...
    private static final Pattern RECORD = Pattern.compile(
            "^rmgr: (\\S+)\\s+len \\(rec/tot\\):\\s*(\\d+)/\\s*(\\d+), tx:\\s*(\\d+), lsn: ([0-9A-F]+/[0-9A-F]+), prev \\S+, desc: (.*)$");
    /** A prepared transaction's COMMIT_PREPARED/ABORT_PREPARED names its own xid, which is the one recovery_target_xid means. */
    private static final Pattern TRANSACTION_END = Pattern.compile(
            "^(COMMIT|ABORT)(?:_PREPARED (\\d+):)? (\\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}:\\d{2}(?:\\.\\d+)?) UTC.*");
    private static final Pattern RESTORE_POINT = Pattern.compile("^RESTORE_POINT (.*)$");
    /** pg_waldump prints times in its TZ (set to UTC by the scanner), dropping trailing zeros of the fraction. */
    private static final DateTimeFormatter TIME = new DateTimeFormatterBuilder().appendPattern("yyyy-MM-dd HH:mm:ss")
            .optionalStart().appendFraction(ChronoField.NANO_OF_SECOND, 1, 9, true).optionalEnd().toFormatter();

    private final List<TransactionEnd> transactionEnds = new ArrayList<>();
    private final List<RestorePoint> restorePoints = new ArrayList<>();
    private long lastRecordLsn;

    /** Takes one line of pg_waldump's output; lines that are no record are ignored. */
    public void accept(String line) {
        Matcher r = RECORD.matcher(line);
        if (!r.matches()) {
            return;
        }
        long lsn = Lsn.parse(r.group(5)).value();
        lastRecordLsn = Math.max(lastRecordLsn, lsn);
        String desc = r.group(6);
        Matcher end;
        if ("Transaction".equals(r.group(1)) && (end = TRANSACTION_END.matcher(desc)).matches()) {
            Instant time = LocalDateTime.parse(end.group(3), TIME).toInstant(ZoneOffset.UTC);
            long xid = Long.parseLong(end.group(2) != null ? end.group(2) : r.group(4));
            transactionEnds.add(new TransactionEnd(lsn, xid, time, "COMMIT".equals(end.group(1))));
            return;
        }
        Matcher point;
        if ("XLOG".equals(r.group(1)) && (point = RESTORE_POINT.matcher(desc)).matches()) {
            restorePoints.add(new RestorePoint(lsn, point.group(1).stripTrailing()));
        }
    }

    /**
     * Adds what {@code later} read of the WAL after this summary's: a stretch read in parts (newest
     * part first, overlapping by a segment so that no record crossing a part's first segment
     * boundary is lost) is put back together oldest part first. Records {@code later} shares with
     * this one (at or before this one's last record) are taken once.
     */
    public void append(WalSummary later) {
        long seen = lastRecordLsn;
        later.transactionEnds.stream().filter(e -> e.lsn() > seen).forEach(transactionEnds::add);
        later.restorePoints.stream().filter(r -> r.lsn() > seen).forEach(restorePoints::add);
        lastRecordLsn = Math.max(lastRecordLsn, later.lastRecordLsn);
    }

    public List<TransactionEnd> transactionEnds() {
        return transactionEnds;
    }

    public List<RestorePoint> restorePoints() {
        return restorePoints;
    }

    /**
     * Where the last record read starts: recovery_target_lsn stops at the first record at or past
     * its target, so a target beyond this is never reached. 0 when nothing was read.
     */
    public long lastRecordLsn() {
        return lastRecordLsn;
    }

    /** The last commit or abort read: a time target must come before it. */
    public Optional<TransactionEnd> lastTransactionEnd() {
        return transactionEnds.isEmpty() ? Optional.empty() : Optional.of(transactionEnds.get(transactionEnds.size() - 1));
    }
}
