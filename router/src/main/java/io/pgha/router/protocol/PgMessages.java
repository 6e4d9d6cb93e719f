package io.pgha.router.protocol;

import io.vertx.core.buffer.Buffer;

import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * Encoders for every message the router writes, one method per message. Each javadoc names the
 * direction and, for messages sent to a server, the replies to expect.
 */
public final class PgMessages {
    private PgMessages() {
    }

    // ---------------------------------------------------------------- to clients

    /** The one-byte answer to an SSLRequest or GSSENCRequest when no encryption is offered. */
    public static Buffer sslNotSupported() {
        return Buffer.buffer(1).appendByte(PgProtocol.SSL_NOT_SUPPORTED);
    }

    /** To a client: AuthenticationSASL listing the mechanisms the router offers. */
    public static Buffer authenticationSasl(String... mechanisms) {
        Buffer b = start(PgProtocol.Backend.AUTHENTICATION).appendInt(PgProtocol.Auth.SASL);
        for (String m : mechanisms) {
            cstring(b, m);
        }
        b.appendByte((byte) 0);
        return finish(b);
    }

    /** To a client: AuthenticationSASLContinue carrying the server-first-message. */
    public static Buffer authenticationSaslContinue(byte[] data) {
        return finish(start(PgProtocol.Backend.AUTHENTICATION).appendInt(PgProtocol.Auth.SASL_CONTINUE).appendBytes(data));
    }

    /** To a client: AuthenticationSASLFinal carrying the server-final-message. */
    public static Buffer authenticationSaslFinal(byte[] data) {
        return finish(start(PgProtocol.Backend.AUTHENTICATION).appendInt(PgProtocol.Auth.SASL_FINAL).appendBytes(data));
    }

    /** To a client: AuthenticationOk. */
    public static Buffer authenticationOk() {
        return finish(start(PgProtocol.Backend.AUTHENTICATION).appendInt(PgProtocol.Auth.OK));
    }

    /** To a client: ParameterStatus. */
    public static Buffer parameterStatus(String name, String value) {
        Buffer b = start(PgProtocol.Backend.PARAMETER_STATUS);
        cstring(b, name);
        cstring(b, value);
        return finish(b);
    }

    /** To a client: BackendKeyData, the key it must quote in a CancelRequest. */
    public static Buffer backendKeyData(int processId, int secretKey) {
        return finish(start(PgProtocol.Backend.BACKEND_KEY_DATA).appendInt(processId).appendInt(secretKey));
    }

    /** To a client: ReadyForQuery with a transaction status. */
    public static Buffer readyForQuery(byte status) {
        return finish(start(PgProtocol.Backend.READY_FOR_QUERY).appendByte(status));
    }

    /** To a client: ParseComplete (sent for a Parse the router answered itself). */
    public static Buffer parseComplete() {
        return finish(start(PgProtocol.Backend.PARSE_COMPLETE));
    }

    /** To a client: CloseComplete (sent for a Close the router answered itself). */
    public static Buffer closeComplete() {
        return finish(start(PgProtocol.Backend.CLOSE_COMPLETE));
    }

    /** To a client: ErrorResponse with severity, SQLSTATE and message. */
    public static Buffer errorResponse(String severity, String sqlState, String message) {
        Buffer b = start(PgProtocol.Backend.ERROR_RESPONSE);
        b.appendByte(PgProtocol.ErrorField.SEVERITY);
        cstring(b, severity);
        b.appendByte(PgProtocol.ErrorField.SEVERITY_NONLOCALIZED);
        cstring(b, severity);
        b.appendByte(PgProtocol.ErrorField.CODE);
        cstring(b, sqlState);
        b.appendByte(PgProtocol.ErrorField.MESSAGE);
        cstring(b, message);
        b.appendByte(PgProtocol.ErrorField.TERMINATOR);
        return finish(b);
    }

    /** To a client: an ErrorResponse of severity FATAL, after which the router closes the connection. */
    public static Buffer fatal(String sqlState, String message) {
        return errorResponse("FATAL", sqlState, message);
    }

    /** To a client: RowDescription of text columns. */
    public static Buffer rowDescription(java.util.List<String> columns) {
        int[] types = new int[columns.size()];
        java.util.Arrays.fill(types, PgProtocol.TypeOid.TEXT);
        return rowDescription(columns, types);
    }

    /**
     * To a client: RowDescription of columns of the given types ({@link PgProtocol.TypeOid}), all
     * sent as text; drivers convert the text by the type (an {@code int8} column reads as a number).
     */
    public static Buffer rowDescription(java.util.List<String> columns, int[] typeOids) {
        Buffer b = start(PgProtocol.Backend.ROW_DESCRIPTION).appendShort((short) columns.size());
        for (int i = 0; i < columns.size(); i++) {
            cstring(b, columns.get(i));
            b.appendInt(0).appendShort((short) 0).appendInt(typeOids[i]).appendShort((short) -1).appendInt(-1).appendShort((short) 0);
        }
        return finish(b);
    }

    /** To a client: DataRow of text values (null for SQL NULL). */
    public static Buffer dataRow(java.util.List<String> values) {
        Buffer b = start(PgProtocol.Backend.DATA_ROW).appendShort((short) values.size());
        for (String v : values) {
            if (v == null) {
                b.appendInt(-1);
            } else {
                byte[] bytes = v.getBytes(StandardCharsets.UTF_8);
                b.appendInt(bytes.length).appendBytes(bytes);
            }
        }
        return finish(b);
    }

    /** To a client: CommandComplete with a tag such as {@code SHOW}. */
    public static Buffer commandComplete(String tag) {
        Buffer b = start(PgProtocol.Backend.COMMAND_COMPLETE);
        cstring(b, tag);
        return finish(b);
    }

    // ---------------------------------------------------------------- to servers

    /** To a server: StartupMessage for protocol 3.0. Replies: Authentication..., then ParameterStatus*, BackendKeyData, ReadyForQuery, or ErrorResponse. */
    public static Buffer startupMessage(Map<String, String> parameters) {
        Buffer b = Buffer.buffer(128).appendInt(0).appendInt(PgProtocol.PROTOCOL_3_0);
        parameters.forEach((k, v) -> {
            cstring(b, k);
            cstring(b, v);
        });
        b.appendByte((byte) 0);
        b.setInt(0, b.length());
        return b;
    }

    /** To a server, on a fresh connection: CancelRequest. No reply; the server closes the connection. */
    public static Buffer cancelRequest(int processId, int secretKey) {
        return Buffer.buffer(16).appendInt(16).appendInt(PgProtocol.CANCEL_REQUEST_CODE).appendInt(processId).appendInt(secretKey);
    }

    /** To a server: SASLInitialResponse. Reply: AuthenticationSASLContinue or ErrorResponse. */
    public static Buffer saslInitialResponse(String mechanism, byte[] data) {
        Buffer b = start(PgProtocol.Frontend.PASSWORD);
        cstring(b, mechanism);
        b.appendInt(data.length).appendBytes(data);
        return finish(b);
    }

    /** To a server: SASLResponse. Reply: AuthenticationSASLFinal then AuthenticationOk, or ErrorResponse. */
    public static Buffer saslResponse(byte[] data) {
        return finish(start(PgProtocol.Frontend.PASSWORD).appendBytes(data));
    }

    /** To a server: Query. Replies: per statement results, then ReadyForQuery. */
    public static Buffer query(String sql) {
        Buffer b = start(PgProtocol.Frontend.QUERY);
        cstring(b, sql);
        return finish(b);
    }

    /** To a server: Parse. Reply: ParseComplete or ErrorResponse. */
    public static Buffer parse(String statement, String query, int[] parameterTypes) {
        Buffer b = start(PgProtocol.Frontend.PARSE);
        cstring(b, statement);
        cstring(b, query);
        b.appendShort((short) parameterTypes.length);
        for (int t : parameterTypes) {
            b.appendInt(t);
        }
        return finish(b);
    }

    /** To a server: a Bind rebuilt with another statement name. Reply: BindComplete or ErrorResponse. */
    public static Buffer bind(String portal, String statement, Buffer original, int restOffset) {
        Buffer b = start(PgProtocol.Frontend.BIND);
        cstring(b, portal);
        cstring(b, statement);
        b.appendBuffer(original, restOffset, original.length() - restOffset);
        return finish(b);
    }

    /** To a server: Describe or Close with another name. Replies: see the protocol for 'D' and 'C'. */
    public static Buffer target(byte type, byte kind, String name) {
        Buffer b = start(type).appendByte(kind);
        cstring(b, name);
        return finish(b);
    }

    /** To a server: Sync. Reply: ReadyForQuery. */
    public static Buffer sync() {
        return finish(start(PgProtocol.Frontend.SYNC));
    }

    /** To a server: Terminate. No reply; the server closes the connection. */
    public static Buffer terminate() {
        return finish(start(PgProtocol.Frontend.TERMINATE));
    }

    // ---------------------------------------------------------------- helpers

    private static Buffer start(byte type) {
        return Buffer.buffer(64).appendByte(type).appendInt(0);
    }

    private static Buffer finish(Buffer b) {
        b.setInt(1, b.length() - 1);
        return b;
    }

    private static void cstring(Buffer b, String s) {
        b.appendBytes(s.getBytes(StandardCharsets.UTF_8)).appendByte((byte) 0);
    }
}
