package io.pgha.router.pool;

import java.util.Collections;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;

/**
 * The tracked session parameters of one server connection (client_encoding, search_path, ...)
 * as the router last left them, as SQL text. Server connections are opened with none of them in
 * their startup packet, so one that is absent here is at the server's own default, which is also
 * what {@code SET name TO DEFAULT} and {@code DISCARD ALL} return it to. After a statement that
 * may have changed any of them they are unknown until the router sets them all again.
 */
public final class ServerParameters {
    private final Map<String, String> values = new HashMap<>();
    private boolean known = true;

    /** Whether this connection's parameters are exactly {@code expected} (every other one at its default). */
    public boolean are(Map<String, String> expected) {
        return known && values.equals(expected);
    }

    /** Whether the router knows this connection's parameters. */
    public boolean known() {
        return known;
    }

    /** The parameter's value as SQL text, or null at the server's default. */
    public String get(String name) {
        return values.get(name);
    }

    /** The parameters that are not at the server's default. */
    public Set<String> names() {
        return Collections.unmodifiableSet(values.keySet());
    }

    /** A value set on the connection; null for the server's default. */
    public void set(String name, String value) {
        if (value == null) {
            values.remove(name);
        } else {
            values.put(name, value);
        }
    }

    /** Exactly these values now, every other parameter at its default. */
    public void setAll(Map<String, String> now) {
        values.clear();
        values.putAll(now);
        known = true;
    }

    /** After DISCARD ALL: every parameter at the server's default. */
    public void reset() {
        setAll(Map.of());
    }

    /** After a statement the router cannot follow (DISCARD PLANS, DEALLOCATE, its own SET failing). */
    public void unknown() {
        values.clear();
        known = false;
    }
}
