package io.pgha.router.routing;

import java.util.HashSet;
import java.util.Locale;
import java.util.Set;

/**
 * The user functions (outside pg_catalog) marked VOLATILE, which must run on the primary. Names
 * are PostgreSQL identifiers as stored (folded to lower case unless they were quoted).
 */
public interface FunctionCatalog {
    /** Whether a call of {@code name}, qualified by {@code schema} or unqualified ({@code null}), must go to the primary. */
    boolean isVolatile(String schema, String name);

    FunctionCatalog NONE = (schema, name) -> false;

    /**
     * A catalog of {@code schema.name} entries. An unqualified call matches a function of that
     * name in any schema: the router does not know the client's search_path, and the primary is
     * the safe side.
     */
    static FunctionCatalog of(Set<String> qualifiedNames) {
        Set<String> qualified = Set.copyOf(qualifiedNames);
        Set<String> bare = new HashSet<>();
        for (String q : qualified) {
            int dot = q.lastIndexOf('.');
            bare.add(dot < 0 ? q : q.substring(dot + 1));
        }
        Set<String> names = Set.copyOf(bare);
        return (schema, name) -> schema == null ? names.contains(name) : qualified.contains(schema + "." + name);
    }

    /** Lower-cases an unquoted identifier as PostgreSQL does. */
    static String fold(String identifier) {
        return identifier.toLowerCase(Locale.ROOT);
    }
}
