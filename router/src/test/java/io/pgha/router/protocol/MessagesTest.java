package io.pgha.router.protocol;

import io.vertx.core.buffer.Buffer;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MessagesTest {

    @Test
    void parseRoundTrip() {
        FrontendMessages.Parse p = FrontendMessages.parse(PgMessages.parse("S_1", "select $1, $2", new int[] {23, 25}));
        assertEquals("S_1", p.statement());
        assertEquals("select $1, $2", p.query());
        assertArrayEquals(new int[] {23, 25}, p.parameterTypes());
    }

    @Test
    void parseThatLiesAboutItsParameterCountIsRejected() {
        Buffer b = Buffer.buffer().appendByte(PgProtocol.Frontend.PARSE).appendInt(0)
                .appendBytes("s\0select 1\0".getBytes()).appendShort((short) 30000);
        b.setInt(1, b.length() - 1);
        assertThrows(ProtocolException.class, () -> FrontendMessages.parse(b));
    }

    @Test
    void bindIsRebuiltWithAnotherStatementName() {
        Buffer original = Buffer.buffer().appendByte(PgProtocol.Frontend.BIND).appendInt(0)
                .appendBytes("\0S_1\0".getBytes())
                .appendShort((short) 1).appendShort((short) 0)
                .appendShort((short) 2).appendInt(2).appendBytes("42".getBytes()).appendInt(-1)
                .appendShort((short) 0);
        original.setInt(1, original.length() - 1);
        FrontendMessages.Bind bind = FrontendMessages.bind(original);
        assertEquals("", bind.portal());
        assertEquals("S_1", bind.statement());
        Buffer rebuilt = PgMessages.bind("", "pgha_7", original, bind.restOffset());
        FrontendMessages.Bind again = FrontendMessages.bind(rebuilt);
        assertEquals("pgha_7", again.statement());
        assertEquals(original.length() + 3, rebuilt.length());
        assertEquals(original.getBuffer(bind.restOffset(), original.length()), rebuilt.getBuffer(again.restOffset(), rebuilt.length()));
    }

    @Test
    void bindWithAParameterLongerThanTheMessageIsRejected() {
        Buffer b = Buffer.buffer().appendByte(PgProtocol.Frontend.BIND).appendInt(0)
                .appendBytes("\0\0".getBytes()).appendShort((short) 0).appendShort((short) 1).appendInt(1000).appendShort((short) 0);
        b.setInt(1, b.length() - 1);
        assertThrows(ProtocolException.class, () -> FrontendMessages.bind(b));
    }

    @Test
    void describeAndCloseTargets() {
        FrontendMessages.Target t = FrontendMessages.target(PgMessages.target(PgProtocol.Frontend.DESCRIBE, PgProtocol.TARGET_STATEMENT, "S_3"));
        assertTrue(t.isStatement());
        assertEquals("S_3", t.name());
        Buffer bad = PgMessages.target(PgProtocol.Frontend.CLOSE, (byte) 'Z', "x");
        assertThrows(ProtocolException.class, () -> FrontendMessages.target(bad));
    }

    @Test
    void errorResponseFields() {
        Map<Byte, String> f = BackendMessages.errorFields(PgMessages.fatal(PgProtocol.SqlState.INVALID_PASSWORD, "password authentication failed"));
        assertEquals("FATAL", f.get(PgProtocol.ErrorField.SEVERITY));
        assertEquals("28P01", f.get(PgProtocol.ErrorField.CODE));
        assertEquals("password authentication failed", f.get(PgProtocol.ErrorField.MESSAGE));
    }

    @Test
    void readyForQueryAndKeyData() {
        assertEquals(PgProtocol.TxStatus.IN_TRANSACTION, BackendMessages.readyForQueryStatus(PgMessages.readyForQuery(PgProtocol.TxStatus.IN_TRANSACTION)));
        BackendMessages.BackendKeyData k = BackendMessages.backendKeyData(PgMessages.backendKeyData(123, -5));
        assertEquals(123, k.processId());
        assertEquals(-5, k.secretKey());
        BackendMessages.ParameterStatus ps = BackendMessages.parameterStatus(PgMessages.parameterStatus("TimeZone", "UTC"));
        assertEquals(new BackendMessages.ParameterStatus("TimeZone", "UTC"), ps);
    }

    @Test
    void cancelRequestAndStartupParse() {
        StartupPacket p = StartupPacket.parse(PgMessages.cancelRequest(77, 99));
        assertEquals(new StartupPacket.CancelRequest(77, 99), p);
        StartupPacket.Startup s = (StartupPacket.Startup) StartupPacket.parse(PgMessages.startupMessage(Map.of("user", "bob", "database", "app")));
        assertEquals("app", s.database());
        assertEquals(PgProtocol.PROTOCOL_3_0, s.protocolVersion());
    }

    @Test
    void malformedStartupPacketsAreRejected() {
        Buffer noUser = PgMessages.startupMessage(Map.of("database", "x"));
        assertEquals(PgProtocol.SqlState.INVALID_AUTHORIZATION, assertThrows(ProtocolException.class, () -> StartupPacket.parse(noUser)).sqlState());
        Buffer v2 = Buffer.buffer().appendInt(9).appendInt(2 << 16).appendByte((byte) 0);
        assertEquals(PgProtocol.SqlState.FEATURE_NOT_SUPPORTED, assertThrows(ProtocolException.class, () -> StartupPacket.parse(v2)).sqlState());
        Buffer unterminated = Buffer.buffer().appendInt(13).appendInt(PgProtocol.PROTOCOL_3_0).appendBytes("user".getBytes()).appendByte((byte) 'x');
        assertThrows(ProtocolException.class, () -> StartupPacket.parse(unterminated));
        Buffer longCancel = Buffer.buffer().appendInt(20).appendInt(PgProtocol.CANCEL_REQUEST_CODE).appendLong(0).appendInt(0);
        assertThrows(ProtocolException.class, () -> StartupPacket.parse(longCancel));
    }
}
