package io.pgha.router.protocol;

import io.vertx.core.buffer.Buffer;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MessageFramerTest {

    private static final class Collector implements MessageFramer.Handler {
        final List<Byte> types = new ArrayList<>();
        final List<Buffer> messages = new ArrayList<>();
        final Buffer streamed = Buffer.buffer();
        int parts;
        boolean lastSeen;

        @Override
        public void onMessage(byte type, Buffer message) {
            types.add(type);
            messages.add(message);
        }

        @Override
        public void onMessagePart(byte type, Buffer part, boolean first, boolean last) {
            parts++;
            streamed.appendBuffer(part);
            lastSeen = last;
        }
    }

    private static Buffer stream() {
        return Buffer.buffer()
                .appendBuffer(PgMessages.query("select 1"))
                .appendBuffer(PgMessages.parse("s1", "select $1", new int[] {23}))
                .appendBuffer(PgMessages.sync())
                .appendBuffer(PgMessages.terminate());
    }

    @Test
    void cutsMessagesWhateverTheChunking() {
        Buffer all = stream();
        for (int split = 0; split <= all.length(); split++) {
            Collector c = new Collector();
            MessageFramer f = new MessageFramer(1024, 1024, false);
            f.feed(all.getBuffer(0, split), c);
            f.feed(all.getBuffer(split, all.length()), c);
            assertEquals(List.of((byte) 'Q', (byte) 'P', (byte) 'S', (byte) 'X'), c.types, "split at " + split);
            assertEquals("select 1", FrontendMessages.query(c.messages.get(0)));
            assertEquals(0, f.bufferedBytes());
        }
    }

    @Test
    void byteByByteFeedingGivesTheSameMessages() {
        Buffer all = stream();
        Collector c = new Collector();
        MessageFramer f = new MessageFramer(1024, 1024, false);
        for (int i = 0; i < all.length(); i++) {
            f.feed(all.getBuffer(i, i + 1), c);
        }
        assertEquals(4, c.messages.size());
        assertEquals("select $1", FrontendMessages.parse(c.messages.get(1)).query());
    }

    @Test
    void rejectsALengthShorterThanItself() {
        Buffer bad = Buffer.buffer().appendByte((byte) 'Q').appendInt(3);
        ProtocolException e = assertThrows(ProtocolException.class, () -> new MessageFramer(1024, 1024, false).feed(bad, new Collector()));
        assertEquals(PgProtocol.SqlState.PROTOCOL_VIOLATION, e.sqlState());
        Buffer negative = Buffer.buffer().appendByte((byte) 'Q').appendInt(-7);
        assertThrows(ProtocolException.class, () -> new MessageFramer(1024, 1024, false).feed(negative, new Collector()));
    }

    @Test
    void rejectsAnOversizedMessageFromItsHeaderAlone() {
        Buffer header = Buffer.buffer().appendByte((byte) 'Q').appendInt(Integer.MAX_VALUE);
        MessageFramer f = new MessageFramer(1024, 1024, false);
        ProtocolException e = assertThrows(ProtocolException.class, () -> f.feed(header, new Collector()));
        assertEquals(PgProtocol.SqlState.PROGRAM_LIMIT_EXCEEDED, e.sqlState());
        assertTrue(f.bufferedBytes() == 0, "nothing was held for the oversized message");
    }

    @Test
    void streamsLongStreamableMessagesInPiecesWithoutHoldingThem() {
        byte[] payload = new byte[100_000];
        new Random(1).nextBytes(payload);
        Buffer row = Buffer.buffer().appendByte(PgProtocol.Backend.DATA_ROW).appendInt(4 + payload.length).appendBytes(payload);
        Buffer all = row.copy().appendBuffer(PgMessages.readyForQuery(PgProtocol.TxStatus.IDLE));
        Collector c = new Collector();
        MessageFramer f = new MessageFramer(1024, 512, false, PgProtocol.Backend.DATA_ROW);
        for (int i = 0; i < all.length(); i += 1000) {
            f.feed(all.getBuffer(i, Math.min(all.length(), i + 1000)), c);
            assertTrue(f.bufferedBytes() <= 1024, "held " + f.bufferedBytes());
        }
        assertEquals(row, c.streamed);
        assertTrue(c.lastSeen);
        assertTrue(c.parts > 50);
        assertEquals(List.of((byte) 'Z'), c.types);
    }

    @Test
    void nonStreamableTypeStillBoundedByMaximum() {
        Buffer big = Buffer.buffer().appendByte(PgProtocol.Frontend.QUERY).appendInt(4 + 5000).appendBytes(new byte[5000]);
        assertThrows(ProtocolException.class, () -> new MessageFramer(1024, 512, false, PgProtocol.Frontend.COPY_DATA).feed(big, new Collector()));
    }

    @Test
    void startupFramingThenTypedMessages() {
        Buffer startup = PgMessages.startupMessage(Map.of("user", "alice"));
        Buffer ssl = Buffer.buffer().appendInt(8).appendInt(PgProtocol.SSL_REQUEST_CODE);
        Buffer all = ssl.copy().appendBuffer(startup).appendBuffer(PgMessages.query("select 2"));
        MessageFramer f = new MessageFramer(1024, 1024, true);
        List<StartupPacket> packets = new ArrayList<>();
        List<String> queries = new ArrayList<>();
        f.feed(all, new MessageFramer.Handler() {
            @Override
            public void onMessage(byte type, Buffer message) {
                if (type == 0) {
                    StartupPacket p = StartupPacket.parse(message);
                    packets.add(p);
                    if (p instanceof StartupPacket.Startup) {
                        f.expectStartup(false);
                    }
                } else {
                    queries.add(FrontendMessages.query(message));
                }
            }

            @Override
            public void onMessagePart(byte type, Buffer part, boolean first, boolean last) {
                throw new AssertionError();
            }
        });
        assertTrue(packets.get(0) instanceof StartupPacket.SslRequest);
        assertEquals("alice", ((StartupPacket.Startup) packets.get(1)).user());
        assertEquals("alice", ((StartupPacket.Startup) packets.get(1)).database());
        assertEquals(List.of("select 2"), queries);
    }

    @Test
    void startupPacketLengthIsBounded() {
        MessageFramer f = new MessageFramer(1 << 20, 1024, true);
        assertThrows(ProtocolException.class, () -> f.feed(Buffer.buffer().appendInt(PgProtocol.MAX_STARTUP_PACKET_LENGTH + 1), new Collector()));
        MessageFramer g = new MessageFramer(1 << 20, 1024, true);
        assertThrows(ProtocolException.class, () -> g.feed(Buffer.buffer().appendInt(7), new Collector()));
    }

    @Test
    void randomGarbageNeverEscapesAsAnythingButProtocolException() {
        Random random = new Random(42);
        for (int i = 0; i < 20_000; i++) {
            byte[] junk = new byte[random.nextInt(64)];
            random.nextBytes(junk);
            MessageFramer f = new MessageFramer(4096, 1024, random.nextBoolean(), PgProtocol.Frontend.COPY_DATA);
            try {
                f.feed(Buffer.buffer(junk), new MessageFramer.Handler() {
                    @Override
                    public void onMessage(byte type, Buffer message) {
                        if (type == 0) {
                            StartupPacket.parse(message);
                        } else {
                            switch (type) {
                                case 'Q' -> FrontendMessages.query(message);
                                case 'P' -> FrontendMessages.parse(message);
                                case 'B' -> FrontendMessages.bind(message);
                                case 'D', 'C' -> FrontendMessages.target(message);
                                default -> BackendMessages.errorFields(message);
                            }
                        }
                    }

                    @Override
                    public void onMessagePart(byte type, Buffer part, boolean first, boolean last) {
                    }
                });
            } catch (ProtocolException expected) {
                // the only failure allowed
            }
        }
    }
}
