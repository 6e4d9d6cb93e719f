package io.pgha.router.routing;

/** Why a statement was routed as it was; the first reason that decided wins. */
public enum Reason {
    /** Only reads. */
    READ,
    /** Nothing to run (empty text, comments only). */
    EMPTY,
    /** COMMIT, ROLLBACK, SAVEPOINT and friends: they run where the transaction runs. */
    TRANSACTION_CONTROL,
    /** BEGIN/START TRANSACTION READ ONLY (not serializable): a standby may run it. */
    READ_ONLY_TRANSACTION,
    /** BEGIN/START TRANSACTION that may write. */
    READ_WRITE_TRANSACTION,
    /** SERIALIZABLE isolation, which hot standbys do not offer. */
    SERIALIZABLE,
    /** INSERT, UPDATE, DELETE, MERGE, DDL, COPY FROM, maintenance and the like. */
    WRITE,
    /** A WITH query one of whose parts modifies data. */
    DATA_MODIFYING_CTE,
    /** SELECT ... FOR UPDATE/SHARE, or LOCK. */
    LOCK,
    /** SELECT ... INTO, which creates a table. */
    SELECT_INTO,
    /** SET, RESET, LISTEN, PREPARE, temporary tables, cursors WITH HOLD, session advisory locks. */
    SESSION_STATE,
    /** DISCARD or DEALLOCATE: session state is dropped (the router's own prepared statements too). */
    DISCARD,
    /** A built-in function that writes or needs the primary (nextval, pg_notify, ...). */
    PRIMARY_FUNCTION,
    /** A user function marked VOLATILE. */
    VOLATILE_FUNCTION,
    /** A {@code pgha:primary} hint comment. */
    HINT,
    /** The classifier cannot tell: the primary is the safe answer. */
    UNKNOWN
}
