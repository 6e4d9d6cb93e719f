package io.pgha.router.protocol;

/**
 * Every byte and code of the PostgreSQL v3 wire protocol the router reads or writes, named once.
 * Message type bytes are split by direction because the same letter means different things
 * (for example {@code 'D'} is Describe from a client and DataRow from a server).
 */
public final class PgProtocol {
    private PgProtocol() {
    }

    /** Protocol version 3.0 in a StartupMessage. */
    public static final int PROTOCOL_3_0 = 196608;
    /** Request code of SSLRequest (1234 << 16 | 5679). */
    public static final int SSL_REQUEST_CODE = 80877103;
    /** Request code of CancelRequest (1234 << 16 | 5678). */
    public static final int CANCEL_REQUEST_CODE = 80877102;
    /** Request code of GSSENCRequest (1234 << 16 | 5680). */
    public static final int GSSENC_REQUEST_CODE = 80877104;

    /** The server's one-byte answer to SSLRequest/GSSENCRequest: no encryption. */
    public static final byte SSL_NOT_SUPPORTED = 'N';
    /** The server's one-byte answer to SSLRequest: go ahead with the TLS handshake. */
    public static final byte SSL_SUPPORTED = 'S';

    /** A startup packet is at most this long, as in PostgreSQL (MAX_STARTUP_PACKET_LENGTH). */
    public static final int MAX_STARTUP_PACKET_LENGTH = 10_000;
    /** Bytes of the length word that opens every message. */
    public static final int LENGTH_SIZE = 4;
    /** Bytes of type byte plus length word of every regular message. */
    public static final int HEADER_SIZE = 5;

    /** Type OIDs (pg_type.oid) of the columns the router describes itself. */
    public static final class TypeOid {
        private TypeOid() {
        }

        public static final int INT8 = 20;
        public static final int INT4 = 23;
        public static final int TEXT = 25;
    }

    /** Message types a client (frontend) sends. */
    public static final class Frontend {
        private Frontend() {
        }

        public static final byte QUERY = 'Q';
        public static final byte PARSE = 'P';
        public static final byte BIND = 'B';
        public static final byte DESCRIBE = 'D';
        public static final byte EXECUTE = 'E';
        public static final byte SYNC = 'S';
        public static final byte FLUSH = 'H';
        public static final byte CLOSE = 'C';
        public static final byte TERMINATE = 'X';
        public static final byte COPY_DATA = 'd';
        public static final byte COPY_DONE = 'c';
        public static final byte COPY_FAIL = 'f';
        public static final byte FUNCTION_CALL = 'F';
        /** PasswordMessage, SASLInitialResponse and SASLResponse share this byte. */
        public static final byte PASSWORD = 'p';
    }

    /** Message types a server (backend) sends. */
    public static final class Backend {
        private Backend() {
        }

        public static final byte AUTHENTICATION = 'R';
        public static final byte BACKEND_KEY_DATA = 'K';
        public static final byte PARAMETER_STATUS = 'S';
        public static final byte READY_FOR_QUERY = 'Z';
        public static final byte ERROR_RESPONSE = 'E';
        public static final byte NOTICE_RESPONSE = 'N';
        public static final byte NOTIFICATION_RESPONSE = 'A';
        public static final byte ROW_DESCRIPTION = 'T';
        public static final byte DATA_ROW = 'D';
        public static final byte COMMAND_COMPLETE = 'C';
        public static final byte EMPTY_QUERY_RESPONSE = 'I';
        public static final byte PARSE_COMPLETE = '1';
        public static final byte BIND_COMPLETE = '2';
        public static final byte CLOSE_COMPLETE = '3';
        public static final byte NO_DATA = 'n';
        public static final byte PARAMETER_DESCRIPTION = 't';
        public static final byte PORTAL_SUSPENDED = 's';
        public static final byte COPY_IN_RESPONSE = 'G';
        public static final byte COPY_OUT_RESPONSE = 'H';
        public static final byte COPY_BOTH_RESPONSE = 'W';
        public static final byte COPY_DATA = 'd';
        public static final byte COPY_DONE = 'c';
        public static final byte FUNCTION_CALL_RESPONSE = 'V';
        public static final byte NEGOTIATE_PROTOCOL_VERSION = 'v';
    }

    /** Codes inside an Authentication message. */
    public static final class Auth {
        private Auth() {
        }

        public static final int OK = 0;
        public static final int CLEARTEXT_PASSWORD = 3;
        public static final int MD5_PASSWORD = 5;
        public static final int SASL = 10;
        public static final int SASL_CONTINUE = 11;
        public static final int SASL_FINAL = 12;
    }

    /** Transaction status byte of ReadyForQuery. */
    public static final class TxStatus {
        private TxStatus() {
        }

        public static final byte IDLE = 'I';
        public static final byte IN_TRANSACTION = 'T';
        public static final byte FAILED = 'E';
    }

    /** Target kinds of Describe and Close. */
    public static final byte TARGET_STATEMENT = 'S';
    public static final byte TARGET_PORTAL = 'P';

    /** Field codes of ErrorResponse and NoticeResponse. */
    public static final class ErrorField {
        private ErrorField() {
        }

        public static final byte SEVERITY = 'S';
        public static final byte SEVERITY_NONLOCALIZED = 'V';
        public static final byte CODE = 'C';
        public static final byte MESSAGE = 'M';
        public static final byte DETAIL = 'D';
        public static final byte HINT = 'H';
        public static final byte TERMINATOR = 0;
    }

    /** SQLSTATE codes the router raises itself or reacts to. */
    public static final class SqlState {
        private SqlState() {
        }

        /** SQLSTATE class of a server's own state: shutting down, starting up, crashed. */
        public static final String CLASS_OPERATOR_INTERVENTION = "57";
        /** SQLSTATE class of a server out of connections, memory or disk. */
        public static final String CLASS_INSUFFICIENT_RESOURCES = "53";
        public static final String PROTOCOL_VIOLATION = "08P01";
        public static final String CONNECTION_FAILURE = "08006";
        public static final String CANNOT_CONNECT_NOW = "57P03";
        public static final String INVALID_PASSWORD = "28P01";
        public static final String INVALID_AUTHORIZATION = "28000";
        public static final String TOO_MANY_CONNECTIONS = "53300";
        public static final String QUERY_CANCELED = "57014";
        public static final String ADMIN_SHUTDOWN = "57P01";
        public static final String FEATURE_NOT_SUPPORTED = "0A000";
        public static final String INTERNAL_ERROR = "XX000";
        public static final String PROGRAM_LIMIT_EXCEEDED = "54000";
        public static final String READ_ONLY_SQL_TRANSACTION = "25006";
        /** Also what a standby cancels a query with on a recovery conflict. */
        public static final String SERIALIZATION_FAILURE = "40001";
        public static final String CRASH_SHUTDOWN = "57P02";
    }
}
