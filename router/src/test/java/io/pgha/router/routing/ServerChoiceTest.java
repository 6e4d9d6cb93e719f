package io.pgha.router.routing;

import io.pgha.router.routing.ServerChoice.BeforeRead;
import io.pgha.router.topology.ServerAddress;
import io.pgha.router.topology.Topology;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;

class ServerChoiceTest {
    static final ServerAddress PRIMARY = new ServerAddress("10.0.0.1", 5432);
    static final ServerAddress S1 = new ServerAddress("10.0.0.2", 5432);
    static final ServerAddress S2 = new ServerAddress("10.0.0.3", 5432);
    static final Topology TWO_STANDBYS = new Topology(PRIMARY, List.of(S1, S2));

    /** Standbys as seen: the eligible ones and how far each replayed. */
    private static ServerChoice.Standbys seen(Set<ServerAddress> eligible, Map<ServerAddress, Long> replayed) {
        return new ServerChoice.Standbys() {
            @Override
            public boolean eligible(ServerAddress standby) {
                return eligible.contains(standby);
            }

            @Override
            public long replayed(ServerAddress standby) {
                return replayed.getOrDefault(standby, -1L);
            }
        };
    }

    private static final ServerChoice.Standbys ALL_FINE = seen(Set.of(S1, S2), Map.of());

    private static List<ServerAddress> choose(ServerChoice c, int times, Route route, boolean primaryOnly, ReadPolicy policy,
                                              long readAfter, ServerChoice.Standbys standbys) {
        List<ServerAddress> chosen = new ArrayList<>();
        for (int i = 0; i < times; i++) {
            chosen.add(c.choose(route, primaryOnly, policy, TWO_STANDBYS, readAfter, standbys));
        }
        return chosen;
    }

    @Test
    void readsGoToTheStandbysInTurn() {
        assertEquals(List.of(S1, S2, S1, S2), choose(new ServerChoice(), 4, Route.STANDBY_OK, false, ReadPolicy.STANDBY, 0, ALL_FINE));
    }

    @Test
    void writesTheReadWriteListenerAndThePrimaryPolicyGoToThePrimary() {
        ServerChoice c = new ServerChoice();
        assertEquals(List.of(PRIMARY, PRIMARY), choose(c, 2, Route.PRIMARY, false, ReadPolicy.STANDBY, 0, ALL_FINE));
        assertEquals(List.of(PRIMARY, PRIMARY), choose(c, 2, Route.STANDBY_OK, true, ReadPolicy.STANDBY, 0, ALL_FINE));
        assertEquals(List.of(PRIMARY, PRIMARY), choose(c, 2, Route.STANDBY_OK, false, ReadPolicy.PRIMARY, 0, ALL_FINE));
        assertEquals(PRIMARY, c.choose(Route.STANDBY_OK, false, ReadPolicy.STANDBY, new Topology(PRIMARY, List.of()), 0, ALL_FINE));
    }

    @Test
    void underAnyThePrimaryTakesItsTurn() {
        assertEquals(List.of(S1, S2, PRIMARY, S1), choose(new ServerChoice(), 4, Route.STANDBY_OK, false, ReadPolicy.ANY, 0, ALL_FINE));
    }

    @Test
    void aStandbyThatMayNotTakeReadsIsSkippedAndWithNoneLeftThePrimaryReads() {
        assertEquals(List.of(S2, S2, S2), choose(new ServerChoice(), 3, Route.STANDBY_OK, false, ReadPolicy.STANDBY, 0,
                seen(Set.of(S2), Map.of())));
        assertEquals(List.of(PRIMARY, PRIMARY), choose(new ServerChoice(), 2, Route.STANDBY_OK, false, ReadPolicy.STANDBY, 0,
                seen(Set.of(), Map.of())));
    }

    @Test
    void afterAWriteOnlyAStandbyThatReplayedItWill() {
        ServerChoice.Standbys s = seen(Set.of(S1, S2), Map.of(S1, 900L, S2, 1000L));
        assertEquals(List.of(S2, S2), choose(new ServerChoice(), 2, Route.STANDBY_OK, false, ReadPolicy.STANDBY, 1000, s));
        assertEquals(List.of(PRIMARY), choose(new ServerChoice(), 1, Route.STANDBY_OK, false, ReadPolicy.STANDBY, 1001, s));
        assertEquals(List.of(PRIMARY), choose(new ServerChoice(), 1, Route.STANDBY_OK, false, ReadPolicy.STANDBY,
                ServerChoice.PRIMARY_ONLY, s));
    }

    @Test
    void aReadAfterAWriteAsksForTheCommitPositionOnlyThen() {
        assertEquals(BeforeRead.CHOOSE, ServerChoice.beforeRead(false, false, 0, false), "a client that never wrote waits for nothing");
        assertEquals(BeforeRead.ASK_COMMIT_POSITION, ServerChoice.beforeRead(true, false, 0, false));
        assertEquals(BeforeRead.AWAIT_COMMIT_POSITION, ServerChoice.beforeRead(false, true, 0, false));
        assertEquals(BeforeRead.AWAIT_REPLAY, ServerChoice.beforeRead(false, false, 1000, false));
        assertEquals(BeforeRead.CHOOSE, ServerChoice.beforeRead(false, false, 1000, true), "a standby got there");
        assertEquals(BeforeRead.CHOOSE, ServerChoice.beforeRead(false, false, ServerChoice.PRIMARY_ONLY, false),
                "the position is unknown: the primary reads, nobody to wait for");
    }
}
