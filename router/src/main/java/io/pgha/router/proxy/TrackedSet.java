package io.pgha.router.proxy;

import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Recognizes a lone {@code SET [SESSION] name {=|TO} value} (or {@code RESET name}) of a session
 * parameter the router tracks per client (drivers send these at connect: JDBC sets
 * application_name). Such a statement does not pin the client to its server connection: the
 * router remembers the value and sets it again on every server connection the client is lent.
 * Anything more complicated is left to pinning.
 */
final class TrackedSet {
    /** Session parameters tracked per client; SET of any other parameter pins the client. */
    static final Set<String> PARAMETERS = Set.of("client_encoding", "datestyle", "timezone", "intervalstyle",
            "extra_float_digits", "application_name", "standard_conforming_strings", "search_path", "bytea_output");

    private static final Pattern SET = Pattern.compile(
            "\\s*SET\\s+(?:SESSION\\s+)?(TIME\\s+ZONE|[A-Za-z_]+)(?:\\s*=\\s*|\\s+TO\\s+|\\s+)(.+?)[\\s;]*", Pattern.CASE_INSENSITIVE | Pattern.DOTALL);
    private static final Pattern RESET = Pattern.compile("\\s*RESET\\s+([A-Za-z_]+)[\\s;]*", Pattern.CASE_INSENSITIVE);
    private static final Pattern DISCARD_ALL = Pattern.compile("\\s*DISCARD\\s+ALL[\\s;]*", Pattern.CASE_INSENSITIVE);

    /** A parameter and the SQL text of its value, ready for {@code SET name = value}. */
    record Assignment(String name, String value) {
    }

    private TrackedSet() {
    }

    /** The assignment, or null when the text is anything else. */
    static Assignment parse(String sql) {
        if (sql.length() > 1024 || sql.contains("--") || sql.contains("/*")) {
            return null;
        }
        Matcher m = SET.matcher(sql);
        if (m.matches()) {
            String name = m.group(1).toLowerCase(Locale.ROOT).replaceAll("\\s+", " ");
            if (name.equals("time zone")) {
                name = "timezone";
            }
            String value = m.group(2);
            if (!PARAMETERS.contains(name) || !singleValue(value)) {
                return null;
            }
            return new Assignment(name, value);
        }
        Matcher r = RESET.matcher(sql);
        if (r.matches()) {
            String name = r.group(1).toLowerCase(Locale.ROOT);
            return PARAMETERS.contains(name) ? new Assignment(name, "DEFAULT") : null;
        }
        return null;
    }

    /** A lone {@code DISCARD ALL}, which returns every parameter to its value at the start of the session. */
    static boolean discardAll(String sql) {
        return DISCARD_ALL.matcher(sql).matches();
    }

    /** A value with no statement separator and balanced quotes. */
    private static boolean singleValue(String value) {
        boolean inString = false;
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c == '\'') {
                inString = !inString;
            } else if (!inString && (c == ';' || c == '"' || c == '$' || c == '\\')) {
                return false;
            }
        }
        return !inString;
    }

    /** A startup-packet value as SQL text. */
    static String literal(String raw) {
        return "'" + raw.replace("'", "''") + "'";
    }
}
