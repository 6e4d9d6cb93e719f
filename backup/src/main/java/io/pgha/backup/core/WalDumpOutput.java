package io.pgha.backup.core;

import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads pg_waldump's record listing for the transaction ends it shows: the Transaction resource
 * manager's COMMIT and ABORT records carry their time ({@code desc: COMMIT 2026-12-04 22:30:00.123456 UTC}).
 * The newest of them is as far as a restore of the archive can reach in time. pg_waldump must
 * run with TZ=UTC so that the times are printed in UTC.
 */
public final class WalDumpOutput {
    private static final Pattern TRANSACTION_END = Pattern.compile(
            "rmgr: Transaction .*desc: (?:COMMIT|ABORT)(?:_PREPARED \\d+:)? (\\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}:\\d{2}(?:\\.\\d{1,6})?) UTC");
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss[.SSSSSS][.SSSSS][.SSSS][.SSS][.SS][.S]");

    private WalDumpOutput() {
    }

    /** The time of the last COMMIT or ABORT record listed, empty when there is none. */
    public static Optional<Instant> lastTransactionEnd(String output) {
        Optional<Instant> last = Optional.empty();
        Matcher m = TRANSACTION_END.matcher(output);
        while (m.find()) {
            try {
                Instant t = LocalDateTime.parse(m.group(1), TIME).toInstant(ZoneOffset.UTC);
                if (last.isEmpty() || t.isAfter(last.get())) {
                    last = Optional.of(t);
                }
            } catch (DateTimeParseException e) {
                // not a time after all: such a line says nothing about the archive's end
            }
        }
        return last;
    }
}
