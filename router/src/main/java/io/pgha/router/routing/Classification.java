package io.pgha.router.routing;

/**
 * The verdict on one query text (which may hold several statements).
 *
 * @param route where it may run
 * @param reason what decided the route
 * @param sessionState it leaves state in the server session (SET, LISTEN, PREPARE, temporary
 *        tables, session advisory locks, WITH HOLD cursors): in transaction pooling the client must
 *        keep its server connection from now on
 * @param discardsSession it drops session state (DISCARD, DEALLOCATE), including statements the
 *        router prepared on that server connection
 */
public record Classification(Route route, Reason reason, boolean sessionState, boolean discardsSession) {
    public boolean primary() {
        return route == Route.PRIMARY;
    }
}
