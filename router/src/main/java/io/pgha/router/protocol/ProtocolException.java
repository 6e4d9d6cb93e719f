package io.pgha.router.protocol;

/** A peer broke the wire protocol; the connection it came from must be closed. */
public final class ProtocolException extends RuntimeException {
    private final String sqlState;

    public ProtocolException(String message) {
        this(PgProtocol.SqlState.PROTOCOL_VIOLATION, message);
    }

    public ProtocolException(String sqlState, String message) {
        super(message, null, false, false);
        this.sqlState = sqlState;
    }

    public String sqlState() {
        return sqlState;
    }
}
