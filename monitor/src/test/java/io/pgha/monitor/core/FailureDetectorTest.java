package io.pgha.monitor.core;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;

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

    private static final Duration SECOND = Duration.ofSeconds(1);

    private static InstanceObservation silent(String name, long millis) {
        return InstanceObservation.silent(name, Obs.NOW, Duration.ofMillis(millis));
    }

    private static InstanceObservation streamingStandby(String name, Double receiptAgeSeconds) {
        return Obs.standby(name, 1, "0/5", "0/5").withWalReceiptAge(receiptAgeSeconds);
    }

    @Test
    void aSilentInstanceFailsOneCheckPerWholeIntervalOfSilence() {
        FailureDetector d = new FailureDetector();
        Map<String, InstanceObservation> none = Map.of();
        assertEquals(0, d.record(silent("pg-1", 850), true, true, SECOND, none), "not yet one interval silent");
        assertEquals(1, d.record(silent("pg-1", 1_010), true, true, SECOND, none));
        // a round that started a few milliseconds early still counts the third interval
        assertEquals(3, d.record(silent("pg-1", 2_950), true, true, SECOND, none));
        assertTrue(d.isFailed("pg-1", 3));
    }

    @Test
    void aLateAnswerClearsTheSilence() {
        FailureDetector d = new FailureDetector();
        d.record(silent("pg-1", 2_100), true, true, SECOND, Map.of());
        assertEquals(0, d.record(Obs.primary("pg-1", 1, "0/5"), true, true, SECOND, Map.of()));
        assertEquals(0, d.record(silent("pg-1", 600), true, true, SECOND, Map.of()),
                "silence counts from the last answered check, not from the first unanswered one");
    }

    @Test
    void aPrimaryWhoseStandbysStillReceiveItsWalIsSlowNotFailed() {
        FailureDetector d = new FailureDetector();
        InstanceObservation hung = silent("pg-1", 4_000);
        assertEquals(0, d.record(hung, true, true, SECOND,
                Obs.byName(hung, streamingStandby("pg-2", 0.2), streamingStandby("pg-3", null))));
        assertFalse(d.isFailed("pg-1", 1));
        assertEquals(4, d.record(hung, true, true, SECOND,
                Obs.byName(hung, streamingStandby("pg-2", 1.4), streamingStandby("pg-3", null))),
                "nothing from its WAL sender for longer than an interval: no sign of life at all");
        InstanceObservation notStreaming = InstanceObservation.standby("pg-2", Obs.NOW, 1, null, null, false, "")
                .withWalReceiptAge(0.1);
        assertEquals(4, d.record(hung, true, true, SECOND, Obs.byName(hung, notStreaming)),
                "a standby that does not stream is no witness");
        assertEquals(4, d.record(silent("pg-2", 4_000), false, true, SECOND,
                Obs.byName(streamingStandby("pg-3", 0.1))), "only the recorded primary can be vouched for by streaming");
    }

    @Test
    void anOutrightFailureCountsOneWhateverTheClock() {
        FailureDetector d = new FailureDetector();
        assertEquals(1, d.record(Obs.down("pg-1"), true, true, SECOND, Map.of()));
        assertEquals(2, d.record(Obs.down("pg-1"), true, true, SECOND, Map.of()));
    }

    @Test
    void aRefusedCheckOfAServerWhoseProcessIsGoneFailsItAtOnce() {
        FailureDetector d = new FailureDetector();
        assertEquals(3, d.record(Obs.down("pg-1"), true, true, true, 3, SECOND, Map.of()),
                "a killed postmaster: no later check can see anything else");
        assertTrue(d.isFailed("pg-1", 3));
        assertEquals(0, d.record(Obs.primary("pg-1", 1, "0/5"), true, true, true, 3, SECOND, Map.of()),
                "an answer clears it, whatever the platform said");
        assertEquals(1, d.record(Obs.down("pg-1"), true, true, false, 3, SECOND, Map.of()),
                "refused while its process may still be there (a restart): one failure, as before");
        assertEquals(2, d.record(silent("pg-1", 2_000), true, true, true, 3, SECOND, Map.of()),
                "silence is judged by the clock alone: a frozen process is not a gone one");
        FailureDetector answering = new FailureDetector();
        assertEquals(1, answering.record(Obs.primary("pg-1", 1, "0/5"), true, false, true, 3, SECOND, Map.of()),
                "it answered: only a check that reached nothing is sped up");
    }

    @Test
    void anInstanceThatFailedOutrightIsCheckedAgainSoonerAndASilentOneIsNot() {
        FailureDetector d = new FailureDetector();
        assertEquals(SECOND, d.nextCheck("pg-1", SECOND));
        d.record(Obs.down("pg-1"), true, true, SECOND, Map.of());
        assertEquals(Duration.ofMillis(200), d.nextCheck("pg-1", SECOND));
        assertEquals(Duration.ofMillis(100), d.nextCheck("pg-1", Duration.ofMillis(300)), "never more often than every 100 ms");
        d.record(silent("pg-1", 1_500), true, true, SECOND, Map.of());
        assertEquals(SECOND, d.nextCheck("pg-1", SECOND), "silence is judged in whole intervals");
        d.record(Obs.down("pg-1"), true, true, SECOND, Map.of());
        d.record(Obs.primary("pg-1", 1, "0/5"), true, true, SECOND, Map.of());
        assertEquals(SECOND, d.nextCheck("pg-1", SECOND));
    }
}
