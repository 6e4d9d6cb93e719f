package io.pgha.monitor.core;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A libpq keyword/value connection string ({@code host=127.0.0.1 port=6443 user=x}), as
 * primary_conninfo holds it. Values are single-quoted when they need it, with {@code \'} and
 * {@code \\} escapes, as libpq reads them.
 */
public final class Conninfo {
    private final Map<String, String> values;

    private Conninfo(Map<String, String> values) {
        this.values = values;
    }

    public static Conninfo of(Map<String, String> values) {
        return new Conninfo(new LinkedHashMap<>(values));
    }

    public static Conninfo parse(String text) {
        Map<String, String> values = new LinkedHashMap<>();
        int i = 0;
        int n = text == null ? 0 : text.length();
        while (i < n) {
            while (i < n && Character.isWhitespace(text.charAt(i))) {
                i++;
            }
            if (i >= n) {
                break;
            }
            int keyStart = i;
            while (i < n && text.charAt(i) != '=' && !Character.isWhitespace(text.charAt(i))) {
                i++;
            }
            String key = text.substring(keyStart, i);
            while (i < n && Character.isWhitespace(text.charAt(i))) {
                i++;
            }
            if (i >= n || text.charAt(i) != '=') {
                throw new IllegalArgumentException("missing \"=\" after \"" + key + "\" in connection info");
            }
            i++;
            while (i < n && Character.isWhitespace(text.charAt(i))) {
                i++;
            }
            StringBuilder value = new StringBuilder();
            if (i < n && text.charAt(i) == '\'') {
                i++;
                boolean closed = false;
                while (i < n) {
                    char c = text.charAt(i++);
                    if (c == '\\' && i < n) {
                        value.append(text.charAt(i++));
                    } else if (c == '\'') {
                        closed = true;
                        break;
                    } else {
                        value.append(c);
                    }
                }
                if (!closed) {
                    throw new IllegalArgumentException("unterminated quoted value for \"" + key + "\"");
                }
            } else {
                while (i < n && !Character.isWhitespace(text.charAt(i))) {
                    char c = text.charAt(i++);
                    if (c == '\\' && i < n) {
                        value.append(text.charAt(i++));
                    } else {
                        value.append(c);
                    }
                }
            }
            values.put(key, value.toString());
        }
        return new Conninfo(values);
    }

    public String get(String key) {
        return values.get(key);
    }

    public Map<String, String> values() {
        return Collections.unmodifiableMap(values);
    }

    public boolean isEmpty() {
        return values.isEmpty();
    }

    /** A copy with {@code key} set. */
    public Conninfo with(String key, String value) {
        Map<String, String> copy = new LinkedHashMap<>(values);
        copy.put(key, value);
        return new Conninfo(copy);
    }

    /** The same connection string aimed at another server: host and port replaced, hostaddr dropped. */
    public Conninfo pointedAt(String host, int port) {
        Map<String, String> copy = new LinkedHashMap<>(values);
        copy.remove("hostaddr");
        copy.put("host", host);
        copy.put("port", Integer.toString(port));
        return new Conninfo(copy);
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder();
        values.forEach((k, v) -> {
            if (sb.length() > 0) {
                sb.append(' ');
            }
            sb.append(k).append('=').append(quote(v));
        });
        return sb.toString();
    }

    /** Like toString, with any password replaced, for logs. */
    public String redacted() {
        return values.containsKey("password") ? with("password", "***").toString() : toString();
    }

    private static String quote(String v) {
        boolean plain = !v.isEmpty() && v.chars().noneMatch(c -> Character.isWhitespace(c) || c == '\'' || c == '\\');
        if (plain) {
            return v;
        }
        return "'" + v.replace("\\", "\\\\").replace("'", "\\'") + "'";
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Conninfo c && c.values.equals(values);
    }

    @Override
    public int hashCode() {
        return values.hashCode();
    }
}
