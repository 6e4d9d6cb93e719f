package io.pgha.api;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * PostgreSQL's {@code synchronous_standby_names}, written by the provisioner and read back by the
 * monitor from the live primary: one place for its syntax, so that the set of standbys the
 * monitor counts as able to acknowledge a commit is the set PostgreSQL waits for.
 *
 * <p>Forms read, as PostgreSQL's own parser (syncrep_gram.y) accepts them: {@code ANY n (a, b)},
 * {@code FIRST n (a, b)}, {@code n (a, b)} (FIRST) and {@code a, b} (FIRST 1). Names are
 * identifiers, folded to lower case, or double-quoted, kept as written. {@code *} stands for any
 * standby; pgha never writes it (the parameter is refused in a spec) and a list holding it is
 * reported as {@link Setting#anyStandby()}.
 */
public final class SynchronousStandbyNames {
    private SynchronousStandbyNames() {
    }

    /** A parsed value: how many must acknowledge, and of which standbys. */
    public record Setting(boolean quorum, int number, List<String> names) {
        /** Whether {@code *} is listed: any standby can acknowledge, so the names do not say which. */
        public boolean anyStandby() {
            return names.contains("*");
        }
    }

    /** {@code ANY number ("a", "b", ...)}: each name double-quoted, so it is matched as written. */
    public static String quorum(int number, List<String> names) {
        return "ANY " + number + " (" + names.stream().map(n -> '"' + n.replace("\"", "\"\"") + '"')
                .collect(Collectors.joining(", ")) + ")";
    }

    /**
     * The setting {@code value} (as {@code current_setting} returns it) stands for; empty when it
     * is empty (asynchronous replication).
     *
     * @throws IllegalArgumentException when it is not a form PostgreSQL accepts
     */
    public static Optional<Setting> parse(String value) {
        Lexer in = new Lexer(value == null ? "" : value);
        if (in.atEnd()) {
            return Optional.empty();
        }
        boolean quorum = false;
        Integer number = null;
        int mark = in.pos;
        String first = in.word();
        if ("any".equals(first) || "first".equals(first)) {
            quorum = "any".equals(first);
            number = in.number();
            if (number == null) {
                throw new IllegalArgumentException("a number must follow " + first.toUpperCase(Locale.ROOT) + ": " + value);
            }
        } else {
            in.pos = mark;
            number = in.number();
        }
        List<String> names;
        if (number != null) {
            in.expect('(');
            names = in.names();
            in.expect(')');
        } else {
            number = 1;
            names = in.names();
        }
        if (!in.atEnd()) {
            throw new IllegalArgumentException("unexpected text at " + (in.pos + 1) + ": " + value);
        }
        return Optional.of(new Setting(quorum, number, List.copyOf(names)));
    }

    private static final class Lexer {
        final String s;
        int pos;

        Lexer(String s) {
            this.s = s;
        }

        void blanks() {
            while (pos < s.length() && Character.isWhitespace(s.charAt(pos))) {
                pos++;
            }
        }

        boolean atEnd() {
            blanks();
            return pos >= s.length();
        }

        /** An unquoted identifier (a letter or _, then letters, digits, _ or $), in lower case; null when none is here. */
        String word() {
            blanks();
            int start = pos;
            if (pos < s.length() && (Character.isLetter(s.charAt(pos)) || s.charAt(pos) == '_')) {
                pos++;
                while (pos < s.length() && (Character.isLetterOrDigit(s.charAt(pos)) || s.charAt(pos) == '_' || s.charAt(pos) == '$')) {
                    pos++;
                }
            }
            return pos == start ? null : s.substring(start, pos).toLowerCase(Locale.ROOT);
        }

        Integer number() {
            blanks();
            int start = pos;
            while (pos < s.length() && Character.isDigit(s.charAt(pos))) {
                pos++;
            }
            if (pos == start || pos < s.length() && (Character.isLetter(s.charAt(pos)) || s.charAt(pos) == '_')) {
                pos = start;
                return null;
            }
            return Integer.parseInt(s.substring(start, pos));
        }

        void expect(char c) {
            blanks();
            if (pos >= s.length() || s.charAt(pos) != c) {
                throw new IllegalArgumentException("expected '" + c + "' at " + (pos + 1) + ": " + s);
            }
            pos++;
        }

        List<String> names() {
            List<String> names = new ArrayList<>();
            do {
                names.add(name());
                blanks();
            } while (pos < s.length() && s.charAt(pos) == ',' && pos++ >= 0);
            return names;
        }

        String name() {
            blanks();
            if (pos < s.length() && s.charAt(pos) == '*') {
                pos++;
                return "*";
            }
            if (pos < s.length() && s.charAt(pos) == '"') {
                StringBuilder b = new StringBuilder();
                pos++;
                while (true) {
                    if (pos >= s.length()) {
                        throw new IllegalArgumentException("unterminated quoted name: " + s);
                    }
                    char c = s.charAt(pos++);
                    if (c == '"') {
                        if (pos < s.length() && s.charAt(pos) == '"') {
                            b.append('"');
                            pos++;
                            continue;
                        }
                        return b.toString().toLowerCase(Locale.ROOT);
                    }
                    b.append(c);
                }
            }
            String w = word();
            if (w == null) {
                throw new IllegalArgumentException("expected a standby name at " + (pos + 1) + ": " + s);
            }
            return w;
        }
    }
}
