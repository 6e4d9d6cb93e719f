package io.pgha.router.routing;

import io.pgha.router.routing.SqlLexer.Kind;

import java.util.Arrays;
import java.util.Locale;
import java.util.Set;
import java.util.function.Supplier;

/**
 * Decides whether a query text may run on a standby or needs the primary. Pure and thread-safe;
 * the user-function catalog is read through a supplier so that it can be refreshed.
 *
 * <p>Rules, in short: statements that only read go to a standby; anything that writes, locks
 * ({@code FOR UPDATE/SHARE}, {@code LOCK}), modifies data in a CTE, runs SERIALIZABLE, leaves
 * session state ({@code SET}, {@code LISTEN}, {@code PREPARE}, temporary tables, session advisory
 * locks), calls a volatile user function or a built-in that writes or needs the primary, carries a
 * {@code pgha:primary} hint comment, or cannot be understood, goes to the primary. A text with
 * several statements goes to the primary if any of them does. {@code BEGIN READ ONLY} may run on
 * a standby, any other {@code BEGIN} starts a transaction on the primary.
 */
public final class StatementClassifier {

    /** Built-ins (pg_catalog) that write, or whose answer only the primary has. */
    static final Set<String> PRIMARY_BUILTINS = Set.of(
            "nextval", "setval", "currval", "lastval",
            "txid_current", "txid_current_if_assigned", "pg_current_xact_id", "pg_current_xact_id_if_assigned",
            "pg_current_wal_lsn", "pg_current_wal_insert_lsn", "pg_current_wal_flush_lsn",
            "lo_create", "lo_creat", "lo_import", "lo_unlink", "lo_put", "lo_from_bytea", "lowrite",
            "lo_truncate", "lo_truncate64", "lo_open",
            "pg_advisory_xact_lock", "pg_advisory_xact_lock_shared",
            "pg_try_advisory_xact_lock", "pg_try_advisory_xact_lock_shared",
            "pg_notify", "pg_switch_wal", "pg_create_restore_point", "pg_logical_emit_message",
            "pg_create_physical_replication_slot", "pg_create_logical_replication_slot", "pg_drop_replication_slot");

    /** Built-ins that need the primary and also leave state in the session. */
    static final Set<String> SESSION_BUILTINS = Set.of(
            "pg_advisory_lock", "pg_advisory_lock_shared", "pg_try_advisory_lock", "pg_try_advisory_lock_shared",
            "pg_advisory_unlock", "pg_advisory_unlock_shared", "pg_advisory_unlock_all", "set_config");

    private static final Classification EMPTY = new Classification(Route.STANDBY_OK, Reason.EMPTY, false, false);
    private static final Classification READ = new Classification(Route.STANDBY_OK, Reason.READ, false, false);
    private static final Classification TX_CONTROL = new Classification(Route.STANDBY_OK, Reason.TRANSACTION_CONTROL, false, false);
    private static final Classification READ_ONLY_TX = new Classification(Route.STANDBY_OK, Reason.READ_ONLY_TRANSACTION, false, false);
    private static final Classification READ_WRITE_TX = new Classification(Route.PRIMARY, Reason.READ_WRITE_TRANSACTION, false, false);
    private static final Classification SERIALIZABLE = new Classification(Route.PRIMARY, Reason.SERIALIZABLE, false, false);
    private static final Classification WRITE = new Classification(Route.PRIMARY, Reason.WRITE, false, false);
    private static final Classification DML_CTE = new Classification(Route.PRIMARY, Reason.DATA_MODIFYING_CTE, false, false);
    private static final Classification LOCK = new Classification(Route.PRIMARY, Reason.LOCK, false, false);
    private static final Classification SELECT_INTO = new Classification(Route.PRIMARY, Reason.SELECT_INTO, false, false);
    private static final Classification SELECT_INTO_TEMP = new Classification(Route.PRIMARY, Reason.SELECT_INTO, true, false);
    private static final Classification SESSION = new Classification(Route.PRIMARY, Reason.SESSION_STATE, true, false);
    private static final Classification DISCARD = new Classification(Route.STANDBY_OK, Reason.DISCARD, false, true);
    private static final Classification DEALLOCATE = new Classification(Route.PRIMARY, Reason.DISCARD, true, true);
    private static final Classification PRIMARY_FUNCTION = new Classification(Route.PRIMARY, Reason.PRIMARY_FUNCTION, false, false);
    private static final Classification SESSION_FUNCTION = new Classification(Route.PRIMARY, Reason.PRIMARY_FUNCTION, true, false);
    private static final Classification VOLATILE_FUNCTION = new Classification(Route.PRIMARY, Reason.VOLATILE_FUNCTION, false, false);
    private static final Classification UNKNOWN = new Classification(Route.PRIMARY, Reason.UNKNOWN, false, false);

    // body scan flags
    private static final int F_LOCK = 1;
    private static final int F_INTO = 1 << 1;
    private static final int F_DML_TOP = 1 << 2;
    private static final int F_DML_NESTED = 1 << 3;
    private static final int F_PRIMARY_FN = 1 << 4;
    private static final int F_SESSION_FN = 1 << 5;
    private static final int F_VOLATILE_FN = 1 << 6;
    private static final int F_TEMP = 1 << 7;

    private final Supplier<FunctionCatalog> catalog;

    public StatementClassifier() {
        this(() -> FunctionCatalog.NONE);
    }

    public StatementClassifier(Supplier<FunctionCatalog> catalog) {
        this.catalog = catalog;
    }

    public Classification classify(String sql) {
        SqlLexer lx = new SqlLexer(sql);
        FunctionCatalog functions = catalog.get();
        Classification standby = null;
        Classification primary = null;
        boolean session = false;
        boolean discard = false;
        lx.next();
        while (lx.kind != Kind.EOF) {
            if (lx.kind == Kind.SEMICOLON) {
                lx.next();
                continue;
            }
            Classification c = statement(lx, functions);
            session |= c.sessionState();
            discard |= c.discardsSession();
            if (c.primary()) {
                if (primary == null) {
                    primary = c;
                }
            } else if (standby == null || standby.reason() == Reason.EMPTY) {
                standby = c;
            }
            skipToStatementEnd(lx);
        }
        Classification result;
        if (lx.unterminated) {
            result = UNKNOWN;
        } else if (primary != null) {
            result = primary;
        } else if (lx.primaryHint) {
            result = new Classification(Route.PRIMARY, Reason.HINT, false, false);
        } else {
            result = standby == null ? EMPTY : standby;
        }
        if (session != result.sessionState() || discard != result.discardsSession()) {
            result = new Classification(result.route(), result.reason(), session, discard);
        }
        return result;
    }

    private static void skipToStatementEnd(SqlLexer lx) {
        while (lx.kind != Kind.EOF && lx.kind != Kind.SEMICOLON) {
            lx.next();
        }
    }

    /** Classifies the statement whose first token is current; may leave the lexer anywhere in it. */
    private Classification statement(SqlLexer lx, FunctionCatalog functions) {
        if (lx.kind == Kind.LPAREN) {
            return query(lx, functions, false);
        }
        if (lx.kind != Kind.WORD) {
            return UNKNOWN;
        }
        Leading kw = Leading.of(lx);
        if (kw == null) {
            return UNKNOWN;
        }
        return switch (kw) {
            case SELECT, VALUES, TABLE -> query(lx, functions, false);
            case WITH -> query(lx, functions, true);
            case SHOW -> READ;
            case EXPLAIN -> explain(lx, functions);
            case BEGIN, START -> begin(lx);
            case COMMIT, END, ROLLBACK, ABORT -> {
                lx.next();
                yield lx.is("prepared") ? WRITE : TX_CONTROL;
            }
            case SAVEPOINT, RELEASE, FETCH, MOVE, CLOSE -> TX_CONTROL;
            case SET -> set(lx);
            case RESET, LISTEN, UNLISTEN, LOAD -> SESSION;
            case PREPARE -> {
                lx.next();
                yield lx.is("transaction") ? WRITE : SESSION;
            }
            case DEALLOCATE -> DEALLOCATE;
            case DISCARD -> DISCARD;
            case DECLARE -> declare(lx, functions);
            case LOCK -> LOCK;
            case CREATE -> create(lx);
            case COPY -> copy(lx, functions);
            case INSERT, UPDATE, DELETE, MERGE, TRUNCATE, ALTER, DROP, GRANT, REVOKE, COMMENT, SECURITY, VACUUM,
                 ANALYZE, ANALYSE, CLUSTER, REINDEX, REFRESH, IMPORT, CALL, DO, CHECKPOINT, REASSIGN, NOTIFY -> WRITE;
        };
    }

    /**
     * The words a statement can start with that the classifier knows. Found in place, ignoring case
     * (no lower-cased copy of every statement's first word), and switched over exhaustively.
     */
    private enum Leading {
        SELECT, VALUES, TABLE, WITH, SHOW, EXPLAIN, BEGIN, START, COMMIT, END, ROLLBACK, ABORT,
        SAVEPOINT, RELEASE, FETCH, MOVE, CLOSE, SET, RESET, LISTEN, UNLISTEN, LOAD, PREPARE, DEALLOCATE,
        DISCARD, DECLARE, LOCK, CREATE, COPY, INSERT, UPDATE, DELETE, MERGE, TRUNCATE, ALTER, DROP, GRANT,
        REVOKE, COMMENT, SECURITY, VACUUM, ANALYZE, ANALYSE, CLUSTER, REINDEX, REFRESH, IMPORT, CALL, DO,
        CHECKPOINT, REASSIGN, NOTIFY;

        private final String word = name().toLowerCase(Locale.ROOT);
        /** The keywords by their length, so that a word is compared only with those as long as it. */
        private static final Leading[][] BY_LENGTH;

        static {
            int longest = 0;
            for (Leading l : values()) {
                longest = Math.max(longest, l.word.length());
            }
            BY_LENGTH = new Leading[longest + 1][];
            for (int n = 0; n <= longest; n++) {
                final int length = n;
                BY_LENGTH[n] = Arrays.stream(values()).filter(l -> l.word.length() == length).toArray(Leading[]::new);
            }
        }

        /** The keyword the current word is, or null. */
        static Leading of(SqlLexer lx) {
            int length = lx.end - lx.start;
            if (length >= BY_LENGTH.length) {
                return null;
            }
            for (Leading l : BY_LENGTH[length]) {
                if (lx.is(l.word)) {
                    return l;
                }
            }
            return null;
        }
    }

    /** SELECT / VALUES / TABLE / WITH / parenthesized query, from its first token to its end. */
    private Classification query(SqlLexer lx, FunctionCatalog functions, boolean with) {
        int flags = scanBody(lx, functions, !with);
        if ((flags & (F_DML_TOP | F_DML_NESTED)) != 0) {
            return with && (flags & F_DML_NESTED) != 0 ? DML_CTE : WRITE;
        }
        if ((flags & F_LOCK) != 0) {
            return LOCK;
        }
        if ((flags & F_INTO) != 0) {
            return (flags & F_TEMP) != 0 ? SELECT_INTO_TEMP : SELECT_INTO;
        }
        return functionVerdict(flags, READ);
    }

    private static Classification functionVerdict(int flags, Classification otherwise) {
        if ((flags & F_SESSION_FN) != 0) {
            return SESSION_FUNCTION;
        }
        if ((flags & F_PRIMARY_FN) != 0) {
            return PRIMARY_FUNCTION;
        }
        if ((flags & F_VOLATILE_FN) != 0) {
            return VOLATILE_FUNCTION;
        }
        return otherwise;
    }

    /**
     * Walks a statement body from the current token to the end of the statement, noting locking
     * clauses, SELECT INTO, data-modifying keywords and function calls.
     */
    private int scanBody(SqlLexer lx, FunctionCatalog functions, boolean selectInto) {
        int flags = 0;
        int depth = 0;
        // the two tokens before the current one, for "schema . name (" calls
        Kind prevKind = null;
        int prevStart = 0;
        int prevEnd = 0;
        Kind prev2Kind = null;
        int prev2Start = 0;
        int prev2End = 0;
        Kind prev3Kind = null;
        int prev3Start = 0;
        int prev3End = 0;
        while (lx.kind != Kind.EOF && lx.kind != Kind.SEMICOLON) {
            switch (lx.kind) {
                case LPAREN -> {
                    if (prevKind == Kind.WORD || prevKind == Kind.QUOTED_IDENT) {
                        flags |= call(lx, functions, prevKind, prevStart, prevEnd, prev2Kind, prev3Kind, prev3Start, prev3End);
                    }
                    depth++;
                }
                case RPAREN -> depth = Math.max(0, depth - 1);
                case WORD -> {
                    int len = lx.end - lx.start;
                    if (len == 3 && lx.is("for")) {
                        lx.next();
                        if (lx.is("update") || lx.is("share") || lx.is("no") || lx.is("key")) {
                            flags |= F_LOCK;
                            // FOR NO KEY UPDATE / FOR KEY SHARE: skip the whole clause head
                            while (lx.is("no") || lx.is("key") || lx.is("update") || lx.is("share")) {
                                lx.next();
                            }
                        }
                        prev3Kind = prev2Kind;
                        prev2Kind = prevKind;
                        prevKind = Kind.OTHER;
                        continue;
                    } else if (len == 4 && selectInto && depth == 0 && lx.is("into")) {
                        flags |= F_INTO;
                        lx.next();
                        if (lx.is("temp") || lx.is("temporary") || lx.isTempSchema()) {
                            flags |= F_TEMP;
                        }
                        prev3Kind = prev2Kind;
                        prev2Kind = prevKind;
                        prevKind = Kind.OTHER;
                        continue;
                    } else if ((len == 6 && (lx.is("insert") || lx.is("update") || lx.is("delete"))) || (len == 5 && lx.is("merge"))) {
                        flags |= depth == 0 ? F_DML_TOP : F_DML_NESTED;
                    }
                }
                default -> {
                }
            }
            prev3Kind = prev2Kind;
            prev3Start = prev2Start;
            prev3End = prev2End;
            prev2Kind = prevKind;
            prev2Start = prevStart;
            prev2End = prevEnd;
            prevKind = lx.kind;
            prevStart = lx.start;
            prevEnd = lx.end;
            lx.next();
        }
        return flags;
    }

    private static int call(SqlLexer lx, FunctionCatalog functions, Kind nameKind, int nameStart, int nameEnd,
                            Kind dotKind, Kind schemaKind, int schemaStart, int schemaEnd) {
        String text = lx.text();
        String name = identifier(text, nameKind, nameStart, nameEnd);
        String schema = null;
        if (dotKind == Kind.DOT && (schemaKind == Kind.WORD || schemaKind == Kind.QUOTED_IDENT)) {
            schema = identifier(text, schemaKind, schemaStart, schemaEnd);
        }
        if (schema == null || schema.equals("pg_catalog")) {
            if (SESSION_BUILTINS.contains(name)) {
                return F_SESSION_FN;
            }
            if (PRIMARY_BUILTINS.contains(name)) {
                return F_PRIMARY_FN;
            }
            if (schema != null) {
                return 0;
            }
        }
        return functions.isVolatile(schema, name) ? F_VOLATILE_FN : 0;
    }

    private static String identifier(String text, Kind kind, int start, int end) {
        if (kind == Kind.QUOTED_IDENT) {
            int open = text.indexOf('"', start);
            return text.substring(open + 1, end - 1).replace("\"\"", "\"");
        }
        return FunctionCatalog.fold(text.substring(start, end));
    }

    private Classification explain(SqlLexer lx, FunctionCatalog functions) {
        lx.next();
        if (lx.kind == Kind.LPAREN) {
            int depth = 0;
            do {
                if (lx.kind == Kind.LPAREN) {
                    depth++;
                } else if (lx.kind == Kind.RPAREN) {
                    depth--;
                }
                lx.next();
            } while (depth > 0 && lx.kind != Kind.EOF);
        }
        while (lx.is("analyze") || lx.is("analyse") || lx.is("verbose")) {
            lx.next();
        }
        if (lx.kind == Kind.EOF || lx.kind == Kind.SEMICOLON) {
            return UNKNOWN;
        }
        return statement(lx, functions);
    }

    private static Classification begin(SqlLexer lx) {
        boolean readOnly = false;
        lx.next();
        while (lx.kind != Kind.EOF && lx.kind != Kind.SEMICOLON) {
            if (lx.is("serializable")) {
                return SERIALIZABLE;
            }
            if (lx.is("read")) {
                lx.next();
                if (lx.is("only")) {
                    readOnly = true;
                } else if (lx.is("write")) {
                    readOnly = false;
                }
                continue;
            }
            lx.next();
        }
        return readOnly ? READ_ONLY_TX : READ_WRITE_TX;
    }

    private static Classification set(SqlLexer lx) {
        lx.next();
        if (lx.is("local")) {
            return TX_CONTROL;
        }
        if (lx.is("transaction") || lx.is("constraints")) {
            return TX_CONTROL;
        }
        return SESSION;
    }

    private Classification declare(SqlLexer lx, FunctionCatalog functions) {
        boolean hold = false;
        lx.next();
        while (lx.kind != Kind.EOF && lx.kind != Kind.SEMICOLON) {
            if (lx.is("with")) {
                lx.next();
                if (lx.is("hold")) {
                    hold = true;
                }
                continue;
            }
            if (lx.is("for")) {
                lx.next();
                Classification inner = statement(lx, functions);
                if (!hold) {
                    return inner;
                }
                return new Classification(Route.PRIMARY, inner.primary() ? inner.reason() : Reason.SESSION_STATE, true, inner.discardsSession());
            }
            lx.next();
        }
        return UNKNOWN;
    }

    /** CREATE: a temporary object, by keyword or by its schema, is session state; anything else writes. */
    private static Classification create(SqlLexer lx) {
        lx.next();
        if (lx.is("or")) {
            // OR REPLACE
            lx.next();
            lx.next();
        }
        if (lx.is("local") || lx.is("global")) {
            lx.next();
        }
        if (lx.is("temp") || lx.is("temporary")) {
            return SESSION;
        }
        // the object's name comes before its definition: pg_temp.name there is temporary too
        while (lx.kind != Kind.EOF && lx.kind != Kind.SEMICOLON && lx.kind != Kind.LPAREN && !lx.is("as")) {
            boolean tempSchema = lx.isTempSchema();
            if (lx.next() == Kind.DOT && tempSchema) {
                return SESSION;
            }
        }
        return WRITE;
    }

    private Classification copy(SqlLexer lx, FunctionCatalog functions) {
        lx.next();
        if (lx.kind == Kind.LPAREN) {
            // COPY (query) TO ...: the query decides
            lx.next();
            Classification inner = statement(lx, functions);
            return inner;
        }
        int depth = 0;
        while (lx.kind != Kind.EOF && lx.kind != Kind.SEMICOLON) {
            if (lx.kind == Kind.LPAREN) {
                depth++;
            } else if (lx.kind == Kind.RPAREN) {
                depth--;
            } else if (depth == 0 && lx.is("from")) {
                return WRITE;
            } else if (depth == 0 && lx.is("to")) {
                return READ;
            }
            lx.next();
        }
        return UNKNOWN;
    }
}
