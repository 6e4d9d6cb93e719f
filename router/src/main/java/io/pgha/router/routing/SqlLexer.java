package io.pgha.router.routing;

import java.util.Locale;

/**
 * A PostgreSQL lexer just good enough for routing: it never mistakes the inside of a comment,
 * string literal, dollar-quoted body or quoted identifier for SQL. It skips whitespace and
 * comments (nested block comments included) and remembers whether any comment carried a routing
 * hint. It allocates nothing: a token is its kind and its offsets in the text.
 */
final class SqlLexer {
    enum Kind { WORD, QUOTED_IDENT, STRING, NUMBER, PARAM, LPAREN, RPAREN, SEMICOLON, DOT, COMMA, OTHER, EOF }

    static final String HINT_PRIMARY = "pgha:primary";
    /** The schema of a session's temporary objects (pg_temp_N is its name in the catalog). */
    private static final String TEMP_SCHEMA = "pg_temp";

    private final String sql;
    private final int length;
    private int pos;
    Kind kind;
    int start;
    int end;
    boolean primaryHint;
    /** Set when the text ended inside a string, quoted identifier or comment. */
    boolean unterminated;

    SqlLexer(String sql) {
        this.sql = sql;
        this.length = sql.length();
    }

    String text() {
        return sql;
    }

    /** Whether the current token is a word equal, ignoring case, to {@code keyword} (lower case). */
    boolean is(String keyword) {
        return kind == Kind.WORD && end - start == keyword.length() && sql.regionMatches(true, start, keyword, 0, keyword.length());
    }

    /**
     * Whether the current token names the session's temporary schema: {@code pg_temp} or
     * {@code pg_temp_N}, as a word in any case or quoted exactly.
     */
    boolean isTempSchema() {
        String name;
        if (kind == Kind.WORD) {
            name = sql.substring(start, end).toLowerCase(Locale.ROOT);
        } else if (kind == Kind.QUOTED_IDENT && sql.charAt(start) == '"') {
            name = sql.substring(start + 1, end - 1);
        } else {
            return false;
        }
        if (name.equals(TEMP_SCHEMA)) {
            return true;
        }
        String suffix = name.startsWith(TEMP_SCHEMA + "_") ? name.substring(TEMP_SCHEMA.length() + 1) : "";
        return !suffix.isEmpty() && suffix.chars().allMatch(Character::isDigit);
    }

    Kind next() {
        skipSpaceAndComments();
        start = pos;
        if (pos >= length) {
            kind = Kind.EOF;
            end = pos;
            return kind;
        }
        char c = sql.charAt(pos);
        switch (c) {
            case '(' -> single(Kind.LPAREN);
            case ')' -> single(Kind.RPAREN);
            case ';' -> single(Kind.SEMICOLON);
            case ',' -> single(Kind.COMMA);
            case '.' -> {
                if (pos + 1 < length && isDigit(sql.charAt(pos + 1))) {
                    number();
                } else {
                    single(Kind.DOT);
                }
            }
            case '\'' -> {
                pos++;
                quoted('\'', false);
                kind = Kind.STRING;
            }
            case '"' -> {
                pos++;
                quoted('"', false);
                kind = Kind.QUOTED_IDENT;
            }
            case '$' -> dollar();
            default -> {
                if (isIdentStart(c)) {
                    word();
                } else if (isDigit(c)) {
                    number();
                } else {
                    single(Kind.OTHER);
                }
            }
        }
        end = pos;
        return kind;
    }

    private void single(Kind k) {
        pos++;
        kind = k;
    }

    private void word() {
        char first = sql.charAt(pos);
        // E'...' (escape string), and U&'...' / U&"..."; B'', X'', N'' are plain strings after a word
        if ((first == 'e' || first == 'E') && pos + 1 < length && sql.charAt(pos + 1) == '\'') {
            pos += 2;
            quoted('\'', true);
            kind = Kind.STRING;
            return;
        }
        if ((first == 'u' || first == 'U') && pos + 2 < length && sql.charAt(pos + 1) == '&'
                && (sql.charAt(pos + 2) == '\'' || sql.charAt(pos + 2) == '"')) {
            char q = sql.charAt(pos + 2);
            pos += 3;
            quoted(q, false);
            kind = q == '"' ? Kind.QUOTED_IDENT : Kind.STRING;
            return;
        }
        pos++;
        while (pos < length && isIdentPart(sql.charAt(pos))) {
            pos++;
        }
        kind = Kind.WORD;
    }

    private void number() {
        while (pos < length) {
            char c = sql.charAt(pos);
            if (isDigit(c) || c == '.' || c == '_' || c == 'e' || c == 'E' || c == 'x' || c == 'X'
                    || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')) {
                pos++;
            } else if ((c == '+' || c == '-') && (sql.charAt(pos - 1) == 'e' || sql.charAt(pos - 1) == 'E')) {
                pos++;
            } else {
                break;
            }
        }
        kind = Kind.NUMBER;
    }

    /** After the opening quote: up to and including the closing one; doubled quotes escape. */
    private void quoted(char q, boolean backslashEscapes) {
        while (pos < length) {
            char c = sql.charAt(pos);
            if (backslashEscapes && c == '\\') {
                pos += 2;
                continue;
            }
            pos++;
            if (c == q) {
                if (pos < length && sql.charAt(pos) == q) {
                    pos++;
                    continue;
                }
                return;
            }
        }
        pos = length;
        unterminated = true;
    }

    /** {@code $1} is a parameter; {@code $tag$ ... $tag$} a dollar-quoted string. */
    private void dollar() {
        int p = pos + 1;
        if (p < length && isDigit(sql.charAt(p))) {
            while (p < length && isDigit(sql.charAt(p))) {
                p++;
            }
            pos = p;
            kind = Kind.PARAM;
            return;
        }
        while (p < length && sql.charAt(p) != '$' && isIdentPart(sql.charAt(p)) && sql.charAt(p) != '$') {
            p++;
        }
        if (p >= length || sql.charAt(p) != '$') {
            pos++;
            kind = Kind.OTHER;
            return;
        }
        int tagLength = p + 1 - pos;
        int bodyStart = p + 1;
        int close = sql.indexOf(sql.substring(pos, p + 1), bodyStart);
        if (close < 0) {
            pos = length;
            unterminated = true;
        } else {
            pos = close + tagLength;
        }
        kind = Kind.STRING;
    }

    private void skipSpaceAndComments() {
        while (pos < length) {
            char c = sql.charAt(pos);
            if (c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\f') {
                pos++;
            } else if (c == '-' && pos + 1 < length && sql.charAt(pos + 1) == '-') {
                int eol = sql.indexOf('\n', pos);
                int stop = eol < 0 ? length : eol;
                checkHint(pos + 2, stop);
                pos = stop;
            } else if (c == '/' && pos + 1 < length && sql.charAt(pos + 1) == '*') {
                int from = pos + 2;
                int depth = 1;
                pos += 2;
                while (pos < length && depth > 0) {
                    char d = sql.charAt(pos);
                    if (d == '*' && pos + 1 < length && sql.charAt(pos + 1) == '/') {
                        depth--;
                        pos += 2;
                    } else if (d == '/' && pos + 1 < length && sql.charAt(pos + 1) == '*') {
                        depth++;
                        pos += 2;
                    } else {
                        pos++;
                    }
                }
                if (depth > 0) {
                    unterminated = true;
                }
                checkHint(from, pos);
            } else {
                return;
            }
        }
    }

    private void checkHint(int from, int to) {
        int n = HINT_PRIMARY.length();
        for (int i = from; i + n <= to; i++) {
            if (sql.regionMatches(true, i, HINT_PRIMARY, 0, n)) {
                primaryHint = true;
                return;
            }
        }
    }

    private static boolean isDigit(char c) {
        return c >= '0' && c <= '9';
    }

    private static boolean isIdentStart(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c >= 0x80;
    }

    private static boolean isIdentPart(char c) {
        return isIdentStart(c) || isDigit(c) || c == '$';
    }
}
