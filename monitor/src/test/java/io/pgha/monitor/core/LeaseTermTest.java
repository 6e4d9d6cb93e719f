package io.pgha.monitor.core;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The rules for writing under a lease term and for fitting a step into what is left of the lease. */
class LeaseTermTest {
    private static final LeaseTerm A3 = new LeaseTerm("a", 3);
    private static final LeaseTerm B4 = new LeaseTerm("b", 4);

    @Test
    void aStatusWrittenUnderNoTermTakesAnyWrite() {
        assertTrue(LeaseTerm.mayWrite(null, A3));
    }

    @Test
    void theSameTermAndANewerOneMayWriteAnOlderOneNever() {
        assertTrue(LeaseTerm.mayWrite(A3, A3));
        assertTrue(LeaseTerm.mayWrite(A3, B4));
        assertFalse(LeaseTerm.mayWrite(B4, A3));
        assertTrue(LeaseTerm.mayWrite(A3, new LeaseTerm("a", 5)), "a taking the lease again is a new term too");
    }

    @Test
    void twoHoldersNeverShareATerm() {
        assertFalse(LeaseTerm.mayWrite(A3, new LeaseTerm("b", 3)));
    }

    @Test
    void theStatusRecordsTheTermAsItIs() {
        assertEquals(A3, LeaseTerm.of(topology(A3)));
        assertEquals(null, LeaseTerm.of(new io.pgha.api.v1.cluster.TopologyStatus()));
        assertEquals(null, LeaseTerm.of(null));
    }

    private static io.pgha.api.v1.cluster.TopologyStatus topology(LeaseTerm t) {
        io.pgha.api.v1.cluster.TopologyStatus s = new io.pgha.api.v1.cluster.TopologyStatus();
        s.term = t.toStatus();
        return s;
    }

    @Test
    void aStepGetsItsOwnTimeoutWhenTheLeaseCoversIt() {
        assertEquals(Optional.of(Duration.ofSeconds(2)), LeaseBudget.stepTimeout(Duration.ofSeconds(4), Duration.ofSeconds(2)));
    }

    /** promoteTimeout is 60 s against a 5 s lease: the promotion may wait only as long as the lease lasts. */
    @Test
    void aStepLongerThanTheLeaseIsShortenedToWhatIsLeft() {
        assertEquals(Optional.of(Duration.ofMillis(3900)),
                LeaseBudget.stepTimeout(Duration.ofMillis(3900), Duration.ofSeconds(60)));
    }

    @Test
    void tooLittleLeaseLeftStartsNoStep() {
        assertEquals(Optional.empty(), LeaseBudget.stepTimeout(Duration.ofMillis(999), Duration.ofSeconds(60)));
        assertEquals(Optional.empty(), LeaseBudget.stepTimeout(Duration.ZERO, Duration.ofSeconds(1)));
        assertEquals(Optional.of(Duration.ofSeconds(1)), LeaseBudget.stepTimeout(Duration.ofSeconds(1), Duration.ofSeconds(60)));
    }
}
