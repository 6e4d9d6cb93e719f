package io.pgha.provisioner.model;

import io.pgha.api.postgres.TimelineHistory;

import java.util.OptionalLong;

/**
 * Whether a standby holds WAL that the primary's history does not: WAL of an older timeline
 * beyond the point where the primary's timeline forked off it (a standby that received more of
 * the old primary's WAL than the standby that was promoted). PostgreSQL refuses to follow such a
 * primary ("new timeline forked off current database system timeline before current recovery
 * point") and its WAL receiver retries forever, so it has to be rewound. A standby on an older
 * timeline that is behind the fork point follows the new timeline by itself
 * (recovery_target_timeline = latest) and must be left alone, as must every standby that streams:
 * neither is ever stopped for being slow.
 */
public final class Divergence {
    private Divergence() {
    }

    /**
     * Worth reading the primary's timeline history for: a standby that answers from recovery on an
     * older timeline than the primary and whose WAL receiver does not stream.
     */
    public static boolean suspect(InstanceFacts primary, InstanceFacts standby) {
        if (primary == null || primary.wal() == null || !Boolean.FALSE.equals(primary.inRecovery())) {
            return false;
        }
        return standby.reachable() && Boolean.TRUE.equals(standby.inRecovery()) && standby.wal() != null
                && !standby.wal().receiving() && standby.wal().timeline() < primary.wal().timeline();
    }

    /**
     * A suspect whose WAL ends beyond the point where {@code primaryHistory} (the history of the
     * primary's timeline) left the standby's timeline, or whose timeline is no ancestor of the
     * primary's at all: nothing it could stream would ever fit onto what it holds.
     */
    public static boolean aheadOfFork(InstanceFacts primary, InstanceFacts standby, TimelineHistory primaryHistory) {
        if (!suspect(primary, standby)) {
            return false;
        }
        OptionalLong fork = primaryHistory.forkPoint(standby.wal().timeline());
        return fork.isEmpty() || Long.compareUnsigned(standby.wal().end(), fork.getAsLong()) > 0;
    }
}
