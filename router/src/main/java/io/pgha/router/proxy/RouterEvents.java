package io.pgha.router.proxy;

import io.pgha.router.routing.Route;

/** What the router reports for metrics; called on the router's event loop, so keep it cheap. */
public interface RouterEvents {
    default void clientConnected() {
    }

    default void clientDisconnected() {
    }

    /** A transaction (or autocommit statement) started on a server chosen for {@code route}. */
    default void routed(Route route, boolean toStandby) {
    }

    /** A server connection went back to its pool after {@code nanos} with the client. */
    default void transactionFinished(long nanos) {
    }

    default void authenticationFailed() {
    }

    default void clientError(String sqlState) {
    }

    /** The router's polling judged its standbys anew (health and lag); called only when something changed. */
    default void standbyStates(java.util.Map<io.pgha.router.topology.ServerAddress, io.pgha.router.topology.StandbyState> states) {
    }

    RouterEvents NONE = new RouterEvents() {
    };
}
