package io.pgha.monitor.core;

import io.pgha.api.postgres.Lsn;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

class QuorumConfirmationTest {
    private static PgHealth.Primary sample(String current, PgHealth.Replica... replicas) {
        return new PgHealth.Primary(Lsn.parse(current), List.of(), new PgHealth.Archiver(0, 0, null), List.of(replicas),
                "ANY 1 (\"pg-1\", \"pg-2\", \"pg-3\")");
    }

    private static PgHealth.Replica replica(String name, String syncState, String flush, Double replyAge) {
        return new PgHealth.Replica(name, syncState, Lsn.parse(flush), replyAge);
    }

    @Test
    void requiredIsTheNumberOfTheSetting() {
        assertEquals(2, QuorumConfirmation.required("ANY 2 (\"pg-1\", \"pg-2\", \"pg-3\")"));
        assertEquals(1, QuorumConfirmation.required("FIRST 1 (\"pg-2\", \"pg-3\")"));
        assertEquals(0, QuorumConfirmation.required(""));
        assertEquals(0, QuorumConfirmation.required(null));
    }

    @Test
    void aCaughtUpStandbyThatRepliedConfirmsAnAsyncOneDoesNot() {
        QuorumConfirmation q = new QuorumConfirmation();
        assertEquals(1, q.confirming("pg-1", sample("0/5000100",
                replica("pg-2", "quorum", "0/5000100", 0.4), replica("pg-3", "async", "0/5000100", 0.4))));
    }

    @Test
    void aStandbyWhoseFlushStopsWhileThePrimaryWritesStopsConfirmingAtTheNextSample() {
        QuorumConfirmation q = new QuorumConfirmation();
        assertEquals(2, q.confirming("pg-1", sample("0/5000100",
                replica("pg-2", "quorum", "0/5000100", 0.2), replica("pg-3", "quorum", "0/5000100", 0.2))));
        // both still replied lately; pg-3 flushed on, pg-2 stood still but had what the primary had last time
        assertEquals(2, q.confirming("pg-1", sample("0/6000000",
                replica("pg-2", "quorum", "0/5000100", 0.2), replica("pg-3", "quorum", "0/5F00000", 0.2))));
        // pg-2 is still 'quorum' for PostgreSQL, but it has not reached the last sample's position
        assertEquals(1, q.confirming("pg-1", sample("0/7000000",
                replica("pg-2", "quorum", "0/5000100", 0.3), replica("pg-3", "quorum", "0/6800000", 0.2))));
    }

    @Test
    void aStandbyThatStoppedReplyingDoesNotConfirmEvenOnAnIdlePrimary() {
        QuorumConfirmation q = new QuorumConfirmation();
        q.confirming("pg-1", sample("0/5000100", replica("pg-2", "quorum", "0/5000100", 0.2)));
        assertEquals(0, q.confirming("pg-1", sample("0/5000100", replica("pg-2", "quorum", "0/5000100",
                QuorumConfirmation.REPLY_RECENT.toSeconds() + 0.5))));
        assertEquals(0, q.confirming("pg-1", sample("0/5000100", replica("pg-2", "quorum", "0/5000100", null))));
    }

    @Test
    void aNewPrimaryStartsOver() {
        QuorumConfirmation q = new QuorumConfirmation();
        q.confirming("pg-1", sample("0/9000000", replica("pg-2", "quorum", "0/9000000", 0.2)));
        // on the new primary's first sample, only a standby that has all of its WAL counts
        assertEquals(1, q.confirming("pg-2", sample("0/9100000",
                replica("pg-1", "quorum", "0/9100000", 0.2), replica("pg-3", "quorum", "0/9000000", 0.2))));
    }
}
