package io.pgha.router.pool;

import java.util.Iterator;
import java.util.LinkedHashMap;

/**
 * The statements the router prepared on one server connection, least recently used first, so
 * that the oldest can be closed when a connection holds too many.
 */
public final class PreparedStatements {
    private final LinkedHashMap<String, Boolean> names = new LinkedHashMap<>(16, 0.75f, true);

    /** Whether the statement is prepared here; counts as a use. */
    public boolean has(String name) {
        return names.get(name) != null;
    }

    /** Records a statement; false when it was already there. */
    public boolean add(String name) {
        return names.put(name, Boolean.TRUE) == null;
    }

    public void remove(String name) {
        names.remove(name);
    }

    public void clear() {
        names.clear();
    }

    public int size() {
        return names.size();
    }

    /** Removes and returns the least recently used statement. */
    public String evictOldest() {
        Iterator<String> it = names.keySet().iterator();
        String oldest = it.next();
        it.remove();
        return oldest;
    }
}
