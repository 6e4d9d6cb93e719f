package io.pgha.api;

import io.pgha.api.v1.cluster.FailoverSpec;
import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PrimaryIsolationTest {
    @Test
    void anIsolatedPrimaryStopsWithinTheBoundTheReadmeStates() {
        // 5 s to the next check + 20 s isolation + 5 s check granularity + 3 s request + 5 s stop
        assertEquals(Duration.ofSeconds(38), PrimaryIsolation.selfFenceBound());
        assertEquals(Duration.ofSeconds(40), PrimaryIsolation.unconfirmedFenceWait());
    }

    @Test
    void theMonitorPromotesOnlyAfterAnIsolatedPrimaryStoppedWhateverItsFailureDetection() {
        FailoverSpec defaults = new FailoverSpec();
        Duration byDefault = PrimaryIsolation.earliestUnconfirmedPromotion(defaults.failureThreshold,
                Duration.ofMillis(defaults.checkIntervalMillis));
        // 3 failed checks 1 s apart: the first right after the loss, the third 2 s later; then 40 s
        assertEquals(Duration.ofSeconds(42), byDefault);
        assertTrue(byDefault.compareTo(PrimaryIsolation.selfFenceBound()) > 0);
        // the fastest detection the spec allows (1 check, 100 ms) still waits out the bound
        Duration fastest = PrimaryIsolation.earliestUnconfirmedPromotion(1, Duration.ofMillis(100));
        assertTrue(fastest.compareTo(PrimaryIsolation.selfFenceBound()) > 0, fastest.toString());
    }

    @Test
    void aCheckFitsInItsPeriodAndTheProbeTimeoutCoversRequestAndStop() {
        // the bound counts one request per period: a check must end before the next one is due
        assertTrue(PrimaryIsolation.REQUEST_TIMEOUT_SECONDS < PrimaryIsolation.PROBE_PERIOD_SECONDS);
        assertTrue(PrimaryIsolation.PROBE_TIMEOUT_SECONDS > PrimaryIsolation.REQUEST_TIMEOUT_SECONDS + PrimaryIsolation.STOP_TIMEOUT_SECONDS);
        // the isolation clock spans several checks: one lost answer never stops a primary
        assertTrue(PrimaryIsolation.ISOLATION_SECONDS >= 4 * PrimaryIsolation.PROBE_PERIOD_SECONDS);
    }
}
