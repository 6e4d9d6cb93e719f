package io.pgha.router.protocol;

import io.vertx.core.buffer.Buffer;

/** Decoders for the client messages the router has to look into. */
public final class FrontendMessages {
    private FrontendMessages() {
    }

    /** Parse: statement name ("" is the unnamed statement), query text and parameter type OIDs. */
    public record Parse(String statement, String query, int[] parameterTypes) {
    }

    /**
     * Bind: portal and statement names, and where in the message the rest (parameter formats,
     * values, result formats) starts, so that the message can be rebuilt with another statement name.
     */
    public record Bind(String portal, String statement, int restOffset) {
    }

    /** Describe or Close: 'S' for a statement, 'P' for a portal, and its name. */
    public record Target(byte kind, String name) {
        public boolean isStatement() {
            return kind == PgProtocol.TARGET_STATEMENT;
        }
    }

    public static String query(Buffer message) {
        MessageReader r = new MessageReader(message);
        String sql = r.readCString();
        r.expectEnd();
        return sql;
    }

    public static Parse parse(Buffer message) {
        MessageReader r = new MessageReader(message);
        String name = r.readCString();
        String query = r.readCString();
        int n = r.readShort() & 0xffff;
        if (n * 4 > r.remaining()) {
            throw new ProtocolException("Parse declares " + n + " parameter types but is too short");
        }
        int[] types = new int[n];
        for (int i = 0; i < n; i++) {
            types[i] = r.readInt();
        }
        r.expectEnd();
        return new Parse(name, query, types);
    }

    public static Bind bind(Buffer message) {
        MessageReader r = new MessageReader(message);
        String portal = r.readCString();
        String statement = r.readCString();
        int rest = r.position();
        validateBindRest(r);
        return new Bind(portal, statement, rest);
    }

    /** Walks the parameter part of a Bind so that a malformed one is caught here, not by the server. */
    private static void validateBindRest(MessageReader r) {
        int formats = r.readShort() & 0xffff;
        r.skip(formats * 2);
        int params = r.readShort() & 0xffff;
        for (int i = 0; i < params; i++) {
            int len = r.readInt();
            if (len != -1) {
                r.skip(len);
            }
        }
        int results = r.readShort() & 0xffff;
        r.skip(results * 2);
        r.expectEnd();
    }

    /** Describe and Close share this layout. */
    public static Target target(Buffer message) {
        MessageReader r = new MessageReader(message);
        byte kind = r.readByte();
        if (kind != PgProtocol.TARGET_STATEMENT && kind != PgProtocol.TARGET_PORTAL) {
            throw new ProtocolException("invalid target kind '" + MessageFramer.printable(kind) + "'");
        }
        String name = r.readCString();
        r.expectEnd();
        return new Target(kind, name);
    }

    /** The payload of a PasswordMessage / SASLInitialResponse / SASLResponse. */
    public static MessageReader password(Buffer message) {
        return new MessageReader(message);
    }
}
