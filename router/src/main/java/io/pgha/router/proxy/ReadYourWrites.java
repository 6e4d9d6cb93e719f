package io.pgha.router.proxy;

import io.pgha.router.routing.ServerChoice;
import io.vertx.core.AsyncResult;
import io.vertx.core.Future;

import java.util.function.BooleanSupplier;

/**
 * One client's read-your-writes: after a transaction on the primary that may have written, the
 * client's next read that could go to a standby first learns how far the primary's WAL goes (the
 * commit is at or before that), then goes only to a standby known to have replayed that far,
 * waiting a little for one, else to the primary. The position is asked for when such a read comes,
 * not after every transaction: most transactions on the primary are followed by more of them.
 * What to do when is {@link ServerChoice#beforeRead}'s; this keeps the state and runs the waits,
 * on the router's loop.
 */
final class ReadYourWrites {
    private final Router router;
    /** Whether the client has gone: a wait that ends then runs nothing more. */
    private final BooleanSupplier gone;
    /** The current transaction runs on the primary and may write. */
    private boolean mayWrite;
    /** Reads go only to standbys that replayed this far (0: anywhere; {@link ServerChoice#PRIMARY_ONLY}: the primary). */
    private long readAfter;
    /** A transaction that may have written ended, and no read has asked for its commit position yet. */
    private boolean unreadWrite;
    /** The commit position being asked for, or null. */
    private Future<Long> commitPosition;

    ReadYourWrites(Router router, BooleanSupplier gone) {
        this.router = router;
        this.gone = gone;
    }

    /** The position the server of a read must have replayed (0: any will do). */
    long readAfter() {
        return readAfter;
    }

    /** A transaction starts; {@code onPrimaryMayWrite}: it runs on the primary and may write. */
    void started(boolean onPrimaryMayWrite) {
        mayWrite = onPrimaryMayWrite;
    }

    /** The transaction ended: if it may have written, the next read asks how far its commit went. */
    void ended() {
        if (mayWrite) {
            mayWrite = false;
            unreadWrite = true;
        }
    }

    /** What a read must do before it chooses its server ({@link ServerChoice.BeforeRead#CHOOSE}: nothing). */
    ServerChoice.BeforeRead beforeRead() {
        boolean anyReplayed = readAfter > 0 && readAfter != ServerChoice.PRIMARY_ONLY && router.replay.anyReplayed(readAfter);
        return ServerChoice.beforeRead(unreadWrite, commitPosition != null, readAfter, anyReplayed);
    }

    /**
     * Does what {@link #beforeRead()} said, then runs {@code again} once the commit position is
     * known (the read then asks {@link #beforeRead()} again), or {@code choose} once a standby has
     * replayed the write or the wait is over (the server chosen then honours {@link #readAfter()}).
     * Nothing runs if the client has gone meanwhile.
     */
    void await(ServerChoice.BeforeRead what, Runnable again, Runnable choose) {
        switch (what) {
            case ASK_COMMIT_POSITION -> {
                unreadWrite = false;
                commitPosition = router.replay.commitPosition();
                awaitCommitPosition(again);
            }
            case AWAIT_COMMIT_POSITION -> awaitCommitPosition(again);
            case AWAIT_REPLAY -> awaitReplay(choose, System.nanoTime() + router.replayWaitNanos);
            case CHOOSE -> choose.run();
        }
    }

    private void awaitCommitPosition(Runnable again) {
        Future<Long> asked = commitPosition;
        asked.onComplete(ar -> {
            commitKnown(asked, ar);
            if (!gone.getAsBoolean()) {
                again.run();
            }
        });
    }

    /** After the last write, a position at least as late as its commit (or, unknown, the primary only). */
    private void commitKnown(Future<Long> asked, AsyncResult<Long> ar) {
        if (commitPosition != asked) {
            return;
        }
        commitPosition = null;
        readAfter = ar.succeeded() && ar.result() >= 0 ? Math.max(readAfter, ar.result()) : ServerChoice.PRIMARY_ONLY;
    }

    /**
     * No standby is known to have replayed the write yet: ask them again, back to back, for at
     * most the configured wait (a streaming standby is usually a millisecond or so behind), then
     * choose: the primary if none got there.
     */
    private void awaitReplay(Runnable choose, long deadline) {
        Future<Void> asked = router.replay.refresh();
        if (asked.isComplete()) {
            // nobody was asked over the network (no standbys, as after a failover that left none): asking
            // again would spin on the event loop, recursing until the stack overflows
            choose.run();
            return;
        }
        asked.onComplete(ar -> {
            if (gone.getAsBoolean()) {
                return;
            }
            if (System.nanoTime() - deadline < 0 && !router.replay.anyReplayed(readAfter)) {
                awaitReplay(choose, deadline);
            } else {
                choose.run();
            }
        });
    }
}
