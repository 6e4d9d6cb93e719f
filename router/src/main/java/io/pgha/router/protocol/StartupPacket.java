package io.pgha.router.protocol;

import io.vertx.core.buffer.Buffer;

import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/** The untyped first packet of a client connection, decoded. */
public sealed interface StartupPacket {

    /** StartupMessage: protocol 3.0 and its parameters (user, database, options, GUCs). */
    record Startup(int protocolVersion, Map<String, String> parameters) implements StartupPacket {
        public String user() {
            return parameters.get("user");
        }

        /** The database, which defaults to the user name as in PostgreSQL. */
        public String database() {
            String db = parameters.get("database");
            return db == null || db.isEmpty() ? user() : db;
        }
    }

    /** SSLRequest: the client asks for TLS before the real startup packet. */
    record SslRequest() implements StartupPacket {
    }

    /** GSSENCRequest: the client asks for GSSAPI encryption; answered like an SSLRequest without it. */
    record GssEncRequest() implements StartupPacket {
    }

    /** CancelRequest: cancel the query of the backend with this process id and secret key. */
    record CancelRequest(int processId, int secretKey) implements StartupPacket {
    }

    /**
     * Decodes one startup packet as cut by {@link MessageFramer} (length word included).
     *
     * @throws ProtocolException when it is malformed or asks for an unsupported protocol
     */
    static StartupPacket parse(Buffer packet) {
        int len = packet.length();
        if (len < 8 || packet.getInt(0) != len) {
            throw new ProtocolException("invalid length of startup packet");
        }
        int code = packet.getInt(4);
        switch (code) {
            case PgProtocol.SSL_REQUEST_CODE:
                expectLength(len, 8, "SSLRequest");
                return new SslRequest();
            case PgProtocol.GSSENC_REQUEST_CODE:
                expectLength(len, 8, "GSSENCRequest");
                return new GssEncRequest();
            case PgProtocol.CANCEL_REQUEST_CODE:
                expectLength(len, 16, "CancelRequest");
                return new CancelRequest(packet.getInt(8), packet.getInt(12));
            default:
                break;
        }
        if ((code >>> 16) != 3) {
            throw new ProtocolException(PgProtocol.SqlState.FEATURE_NOT_SUPPORTED,
                    "unsupported frontend protocol " + (code >>> 16) + "." + (code & 0xffff));
        }
        Map<String, String> params = new LinkedHashMap<>();
        int pos = 8;
        while (true) {
            if (pos >= len) {
                throw new ProtocolException("startup packet has no terminator");
            }
            if (packet.getByte(pos) == 0) {
                if (pos != len - 1) {
                    throw new ProtocolException("invalid startup packet layout: expected terminator as last byte");
                }
                break;
            }
            int nameEnd = indexOfNul(packet, pos, len);
            String name = packet.getString(pos, nameEnd, StandardCharsets.UTF_8.name());
            pos = nameEnd + 1;
            int valueEnd = indexOfNul(packet, pos, len);
            String value = packet.getString(pos, valueEnd, StandardCharsets.UTF_8.name());
            pos = valueEnd + 1;
            params.put(name, value);
        }
        String user = params.get("user");
        if (user == null || user.isEmpty()) {
            throw new ProtocolException(PgProtocol.SqlState.INVALID_AUTHORIZATION, "no PostgreSQL user name specified in startup packet");
        }
        return new Startup(code, Collections.unmodifiableMap(params));
    }

    private static void expectLength(int actual, int expected, String what) {
        if (actual != expected) {
            throw new ProtocolException("invalid length of " + what + ": " + actual);
        }
    }

    private static int indexOfNul(Buffer b, int from, int end) {
        for (int i = from; i < end; i++) {
            if (b.getByte(i) == 0) {
                return i;
            }
        }
        throw new ProtocolException("unterminated string in startup packet");
    }
}
