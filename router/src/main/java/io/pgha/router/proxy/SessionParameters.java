package io.pgha.router.proxy;

import io.pgha.router.pool.ServerParameters;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One client's tracked session parameters ({@link TrackedSet#PARAMETERS}), as SQL text: those
 * it sent in its startup packet, then what its tracked SETs and RESETs made of them. A parameter
 * it never set is absent and means the server's default; so a connection lent to it gets back to
 * that default whatever the clients before it set there (search_path above all).
 *
 * <p>A RESET (or {@code SET name TO DEFAULT}) returns the parameter to the server's default, also
 * when the client had sent a value in its startup packet: server connections are opened without
 * the clients' values, so the server's default is what the RESET leaves on the connection it runs
 * on, and the router keeps the client there on every other one.
 */
final class SessionParameters {
    private static final String DEFAULT = "DEFAULT";

    private final Map<String, String> values;

    /** @param startup the parameters of the startup packet, as SQL literals ({@link TrackedSet#literal}) */
    SessionParameters(Map<String, String> startup) {
        this.values = new LinkedHashMap<>(startup);
    }

    /** The client ran this tracked SET or RESET on {@code server}: its value from now on, there and on every connection. */
    void set(TrackedSet.Assignment assignment, ServerParameters server) {
        String value = DEFAULT.equalsIgnoreCase(assignment.value()) ? null : assignment.value();
        if (value == null) {
            values.remove(assignment.name());
        } else {
            values.put(assignment.name(), value);
        }
        server.set(assignment.name(), value);
    }

    /**
     * The SETs that bring a lent connection to this client's parameters, which it then holds; null
     * when it holds them already.
     */
    String align(ServerParameters server) {
        if (server.are(values)) {
            return null;
        }
        StringBuilder sql = new StringBuilder();
        values.forEach((name, value) -> {
            if (!server.known() || !value.equals(server.get(name))) {
                sql.append("SET ").append(name).append(" = ").append(value).append(';');
            }
        });
        for (String name : server.known() ? server.names() : TrackedSet.PARAMETERS) {
            if (!values.containsKey(name)) {
                sql.append("SET ").append(name).append(" TO DEFAULT;");
            }
        }
        server.setAll(values);
        return sql.toString();
    }
}
