package io.pgha.router.proxy;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * Server-side names for prepared statements: one name per distinct query text and parameter
 * types, shared by all clients, so that a statement prepared on a server connection for one
 * client serves every other client that prepares the same text. Clients' own names (JDBC's
 * {@code S_1}, pgbench's {@code P0_1}) never reach the servers.
 */
final class StatementNames {
    private final Map<String, String> names = new HashMap<>();
    private int next;

    String nameFor(String query, int[] parameterTypes) {
        String key = parameterTypes.length == 0 ? query : query + '\0' + Arrays.toString(parameterTypes);
        return names.computeIfAbsent(key, k -> "pgha_" + (++next));
    }

    int size() {
        return names.size();
    }
}
