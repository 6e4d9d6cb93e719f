package io.pgha.provisioner.model;

import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

class RollingRestartTest {
    private static Map<String, Boolean> due(boolean pg1, boolean pg2, boolean pg3) {
        Map<String, Boolean> m = new LinkedHashMap<>();
        m.put("pg-1", pg1);
        m.put("pg-2", pg2);
        m.put("pg-3", pg3);
        return m;
    }

    @Test
    void nothingDueNothingToDo() {
        assertInstanceOf(RollingRestart.Nothing.class, RollingRestart.next("pg-1", due(false, false, false), false, false));
    }

    @Test
    void standbysGoFirstOneAtATimeThenTheprimaryBySwitchover() {
        assertEquals("pg-2", ((RollingRestart.RestartInPlace) RollingRestart.next("pg-1", due(true, true, true), true, false)).instance());
        assertEquals("pg-3", ((RollingRestart.RestartInPlace) RollingRestart.next("pg-1", due(true, false, true), true, false)).instance());
        RollingRestart.Switchover s = (RollingRestart.Switchover) RollingRestart.next("pg-1", due(true, false, false), true, false);
        assertEquals("pg-1", s.from());
        assertEquals("pg-2", s.to());
        // the primary is pg-2 now; pg-1 is a standby that is still due
        assertEquals("pg-1", ((RollingRestart.RestartInPlace) RollingRestart.next("pg-2", due(true, false, false), true, false)).instance());
    }

    @Test
    void nothingHappensWhileTheClusterIsNotReady() {
        RollingRestart.Wait w = (RollingRestart.Wait) RollingRestart.next("pg-1", due(true, true, false), false, false);
        assertEquals("pg-2 is due a restart: waiting for every instance to be ready", w.reason());
        w = (RollingRestart.Wait) RollingRestart.next("pg-1", due(true, true, false), false, true);
        assertEquals("pg-1 is due a restart: waiting for every instance to be ready", w.reason());
    }

    @Test
    void loweringWhatStandbysMustMatchRestartsThePrimaryFirstInPlace() {
        RollingRestart.RestartInPlace r = (RollingRestart.RestartInPlace) RollingRestart.next("pg-1", due(true, true, true), true, true);
        assertEquals("pg-1", r.instance());
        // once the primary runs the new settings, the standbys follow
        assertEquals("pg-2", ((RollingRestart.RestartInPlace) RollingRestart.next("pg-1", due(false, true, true), true, true)).instance());
    }

    @Test
    void aLonePrimaryRestartsInPlace() {
        RollingRestart.RestartInPlace r = (RollingRestart.RestartInPlace) RollingRestart.next("pg-1", Map.of("pg-1", true), true, false);
        assertEquals("pg-1", r.instance());
    }
}
