package io.pgha.monitor.core;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class FailureDetectorTest {
    @Test
    void failsOnlyAfterThresholdConsecutiveFailures() {
        FailureDetector d = new FailureDetector();
        assertEquals(1, d.record("pg-1", false));
        assertEquals(2, d.record("pg-1", false));
        assertFalse(d.isFailed("pg-1", 3));
        assertEquals(3, d.record("pg-1", false));
        assertTrue(d.isFailed("pg-1", 3));
    }

    @Test
    void aPrimaryWhosePodIsNotReadyFailsItsCheckUntilTheThreshold() {
        FailureDetector d = new FailureDetector();
        InstanceObservation answering = Obs.primary("pg-1", 1, "0/5");
        assertTrue(FailureDetector.passed(answering, true, true));
        assertFalse(FailureDetector.passed(answering, true, false), "answers, but its pod is not ready");
        assertTrue(FailureDetector.passed(Obs.standby("pg-2", 1, "0/5", "0/5"), false, false),
                "a standby's readiness does not count: a frozen one is never ready");
        for (int i = 1; i < 3; i++) {
            assertEquals(i, d.record("pg-1", FailureDetector.passed(answering, true, false)));
            assertFalse(d.isFailed("pg-1", 3));
        }
        d.record("pg-1", FailureDetector.passed(answering, true, false));
        assertTrue(d.isFailed("pg-1", 3), "three not-ready checks in a row fail the primary");
    }

    @Test
    void oneSuccessClearsTheCount() {
        FailureDetector d = new FailureDetector();
        d.record("pg-1", false);
        d.record("pg-1", false);
        assertEquals(0, d.record("pg-1", true));
        d.record("pg-1", false);
        d.record("pg-1", false);
        assertFalse(d.isFailed("pg-1", 3), "failures must be consecutive");
    }

    @Test
    void instancesCountApartAndCanBeForgotten() {
        FailureDetector d = new FailureDetector();
        d.record("pg-1", false);
        d.record("pg-2", false);
        d.record("pg-2", false);
        assertEquals(1, d.failures("pg-1"));
        assertEquals(2, d.failures("pg-2"));
        d.retain(List.of("pg-2"));
        assertEquals(0, d.failures("pg-1"));
        d.reset("pg-2");
        assertEquals(0, d.failures("pg-2"));
        assertFalse(new FailureDetector().isFailed("x", 0), "a threshold below 1 counts as 1");
    }
}
