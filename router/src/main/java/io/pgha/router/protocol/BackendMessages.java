package io.pgha.router.protocol;

import io.vertx.core.buffer.Buffer;

import java.util.LinkedHashMap;
import java.util.Map;

/** Decoders for the server messages the router has to look into. */
public final class BackendMessages {
    private BackendMessages() {
    }

    public record ParameterStatus(String name, String value) {
    }

    public record BackendKeyData(int processId, int secretKey) {
    }

    /** The transaction status byte of ReadyForQuery. */
    public static byte readyForQueryStatus(Buffer message) {
        if (message.length() != PgProtocol.HEADER_SIZE + 1) {
            throw new ProtocolException("invalid ReadyForQuery length " + message.length());
        }
        return message.getByte(PgProtocol.HEADER_SIZE);
    }

    /** The command tag of CommandComplete ({@code "SELECT 1"}, {@code "ROLLBACK"}). */
    public static String commandTag(Buffer message) {
        MessageReader r = new MessageReader(message);
        String tag = r.readCString();
        r.expectEnd();
        return tag;
    }

    public static ParameterStatus parameterStatus(Buffer message) {
        MessageReader r = new MessageReader(message);
        ParameterStatus p = new ParameterStatus(r.readCString(), r.readCString());
        r.expectEnd();
        return p;
    }

    public static BackendKeyData backendKeyData(Buffer message) {
        MessageReader r = new MessageReader(message);
        BackendKeyData k = new BackendKeyData(r.readInt(), r.readInt());
        r.expectEnd();
        return k;
    }

    /** Fields of an ErrorResponse or NoticeResponse by field code. */
    public static Map<Byte, String> errorFields(Buffer message) {
        MessageReader r = new MessageReader(message);
        Map<Byte, String> fields = new LinkedHashMap<>();
        while (true) {
            byte code = r.readByte();
            if (code == PgProtocol.ErrorField.TERMINATOR) {
                break;
            }
            fields.put(code, r.readCString());
        }
        r.expectEnd();
        return fields;
    }
}
