package io.pgha.local;

/** A failure to report in one line to a person, without a stack trace. */
public class PghaException extends RuntimeException {
    public PghaException(String message) {
        super(message);
    }

    public PghaException(String message, Throwable cause) {
        super(message, cause);
    }
}
