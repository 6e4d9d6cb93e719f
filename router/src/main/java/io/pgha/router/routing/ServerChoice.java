package io.pgha.router.routing;

import io.pgha.router.topology.ServerAddress;
import io.pgha.router.topology.Topology;

import java.util.List;

/**
 * Where a new transaction runs, and what a read right after a write waits for first. Pure: what
 * the router knows of its standbys comes in through {@link Standbys}; the only state is the
 * rotation over the standbys.
 */
public final class ServerChoice {
    /** What the router knows of its standbys when it chooses. */
    public interface Standbys {
        /** Whether a standby may take reads now (not known to be down, healthy, within the lag limit). */
        boolean eligible(ServerAddress standby);

        /** How far a standby has replayed, as a WAL position; negative when unknown. */
        long replayed(ServerAddress standby);
    }

    /** Read-your-writes: what a read that could go to a standby does before a server is chosen. */
    public enum BeforeRead {
        /** Nothing to wait for: choose now. */
        CHOOSE,
        /** The client's last transaction may have written: ask the primary how far its WAL goes. */
        ASK_COMMIT_POSITION,
        /** That question is in flight: wait for its answer. */
        AWAIT_COMMIT_POSITION,
        /** No standby is known to have replayed the write yet: ask them again, for a short while. */
        AWAIT_REPLAY
    }

    /** {@code readAfter} meaning that the commit position could not be learned: the primary only. */
    public static final long PRIMARY_ONLY = Long.MAX_VALUE;

    private int next;

    /**
     * What a read (a transaction the classifier lets a standby run) does first under
     * read-your-writes.
     *
     * @param unreadWrite the client's last transaction on the primary may have written, and no read has asked since
     * @param positionPending the commit position is being asked for
     * @param readAfter the WAL position the client's reads must see (0: none)
     * @param anyReplayed whether some standby is known to have replayed {@code readAfter}
     */
    public static BeforeRead beforeRead(boolean unreadWrite, boolean positionPending, long readAfter, boolean anyReplayed) {
        if (unreadWrite) {
            return BeforeRead.ASK_COMMIT_POSITION;
        }
        if (positionPending) {
            return BeforeRead.AWAIT_COMMIT_POSITION;
        }
        if (readAfter > 0 && readAfter != PRIMARY_ONLY && !anyReplayed) {
            return BeforeRead.AWAIT_REPLAY;
        }
        return BeforeRead.CHOOSE;
    }

    /**
     * The server for a new transaction: the primary, or the next standby in turn that may take
     * reads and, with {@code readAfter} > 0 (read-your-writes), has replayed that far. Under
     * {@link ReadPolicy#ANY} the primary takes its turn in the rotation with the standbys.
     *
     * @param primaryOnly the client came in on the read-write listener
     */
    public ServerAddress choose(Route route, boolean primaryOnly, ReadPolicy policy, Topology topology, long readAfter,
                                Standbys standbys) {
        List<ServerAddress> candidates = topology.standbys();
        if (primaryOnly || route == Route.PRIMARY || candidates.isEmpty() || policy == ReadPolicy.PRIMARY) {
            return topology.primary();
        }
        // under ANY one more slot in the rotation stands for the primary
        int slots = candidates.size() + (policy == ReadPolicy.ANY ? 1 : 0);
        for (int i = 0; i < slots; i++) {
            int slot = Math.floorMod(next++, slots);
            if (slot == candidates.size()) {
                return topology.primary();
            }
            ServerAddress standby = candidates.get(slot);
            if (standbys.eligible(standby) && (readAfter <= 0 || standbys.replayed(standby) >= readAfter)) {
                return standby;
            }
        }
        return topology.primary();
    }
}
