package io.pgha.backup.core;

import java.time.Instant;
import java.util.Optional;

/**
 * Reads pg_waldump's record listing for the transaction ends it shows: the Transaction resource
 * manager's COMMIT and ABORT records carry their time ({@code desc: COMMIT 2026-12-04 22:30:00.123456 UTC}).
 * The newest of them is as far as a restore of the archive can reach in time. pg_waldump must
 * run with TZ=UTC so that the times are printed in UTC. The parsing is {@link WalSummary}'s.
 */
public final class WalDumpOutput {
    private WalDumpOutput() {
    }

    /** The time of the last COMMIT or ABORT record listed, empty when there is none. */
    public static Optional<Instant> lastTransactionEnd(String output) {
        WalSummary summary = new WalSummary();
        output.lines().forEach(summary::accept);
        return summary.transactionEnds().stream().map(WalSummary.TransactionEnd::time).max(Instant::compareTo);
    }
}
