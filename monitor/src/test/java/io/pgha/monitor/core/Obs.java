package io.pgha.monitor.core;

import io.pgha.api.postgres.Lsn;

import java.time.Instant;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Observations for tests. */
final class Obs {
    static final Instant NOW = Instant.parse("2026-11-25T12:00:00Z");

    private Obs() {
    }

    static InstanceObservation primary(String name, int timeline, String lsn, InstanceObservation.Replica... replicas) {
        return InstanceObservation.primary(name, NOW, timeline, Lsn.parse(lsn), Arrays.asList(replicas));
    }

    static InstanceObservation standby(String name, int timeline, String receive, String replay) {
        return InstanceObservation.standby(name, NOW, timeline, Lsn.parseNullable(receive), Lsn.parseNullable(replay),
                true, "host=127.0.0.1 port=1");
    }

    static InstanceObservation down(String name) {
        return InstanceObservation.unreachable(name, NOW, "connection refused");
    }

    static Map<String, InstanceObservation> byName(InstanceObservation... all) {
        Map<String, InstanceObservation> m = new LinkedHashMap<>();
        for (InstanceObservation o : all) {
            m.put(o.name(), o);
        }
        return m;
    }

    static List<InstanceObservation> list(InstanceObservation... all) {
        return List.of(all);
    }

    static InstanceObservation.Replica replica(String instance, String sync, String replay, Double lagSeconds) {
        return new InstanceObservation.Replica(instance, "streaming", sync, Lsn.parse(replay), Lsn.parse(replay),
                Lsn.parse(replay), lagSeconds);
    }
}
