package io.pgha.router.protocol;

import io.vertx.core.buffer.Buffer;

/**
 * Cuts a byte stream into protocol messages without ever trusting a length word.
 *
 * <p>Every message the handler must see whole is held in memory until complete, and such a
 * message may be at most {@code maxMessageSize} bytes: a longer length word, or one shorter than
 * the length word itself, is a {@link ProtocolException}. Message types marked streamable (rows,
 * COPY data) are not held: once one is longer than {@code streamThreshold} it is handed on in
 * pieces as they arrive, so its size bounds nothing. Memory per connection is therefore bounded by
 * {@code maxMessageSize} plus one network read.
 *
 * <p>The first message of a client connection has no type byte (StartupMessage, SSLRequest,
 * CancelRequest); {@link #expectStartup(boolean)} switches that framing on and off. The buffers
 * handed out are slices of the bytes fed, never copies (a message split across reads is put
 * together in a buffer of the framer's own): they are valid as long as those bytes are. Where the
 * fed bytes go back to a pool after the read (the router's client and server connections), a
 * handler that keeps a message copies it.
 */
public final class MessageFramer {
    /** Receives complete messages and pieces of streamed ones. */
    public interface Handler {
        /** A complete message, header included ({@code type} is 0 for a startup packet). */
        void onMessage(byte type, Buffer message);

        /**
         * A piece of a long streamable message: the first piece starts with the header, the last
         * piece has {@code last} set. Concatenated they are the message.
         */
        void onMessagePart(byte type, Buffer part, boolean first, boolean last);
    }

    private int maxMessageSize;
    private final int streamThreshold;
    private final boolean[] streamable = new boolean[256];
    private boolean startup;
    private Buffer pending;
    /** Bytes of the streamed message still to come, 0 when not streaming. */
    private long streamRemaining;
    private byte streamType;

    public MessageFramer(int maxMessageSize, int streamThreshold, boolean startup, byte... streamableTypes) {
        if (maxMessageSize < PgProtocol.HEADER_SIZE) {
            throw new IllegalArgumentException("maxMessageSize too small: " + maxMessageSize);
        }
        this.maxMessageSize = maxMessageSize;
        this.streamThreshold = Math.max(streamThreshold, PgProtocol.HEADER_SIZE);
        this.startup = startup;
        for (byte t : streamableTypes) {
            streamable[t & 0xff] = true;
        }
    }

    /**
     * A new limit for messages held whole: a client connection starts with a small one and gets the
     * full one once it has logged in.
     */
    public void maxMessageSize(int max) {
        if (max < PgProtocol.HEADER_SIZE) {
            throw new IllegalArgumentException("maxMessageSize too small: " + max);
        }
        this.maxMessageSize = max;
    }

    /** Whether the next message is a startup packet (no type byte). */
    public void expectStartup(boolean startup) {
        this.startup = startup;
    }

    /** Bytes held while waiting for the rest of a message. */
    public int bufferedBytes() {
        return pending == null ? 0 : pending.length();
    }

    /**
     * Feeds bytes read from the peer; calls the handler for every message they complete, in order.
     *
     * @throws ProtocolException on a malformed or oversized message; the framer is then unusable
     */
    public void feed(Buffer chunk, Handler handler) {
        Buffer buf;
        if (pending == null) {
            buf = chunk;
        } else {
            pending.appendBuffer(chunk);
            buf = pending;
            pending = null;
        }
        int pos = 0;
        int end = buf.length();
        while (pos < end) {
            if (streamRemaining > 0) {
                int take = (int) Math.min(streamRemaining, end - pos);
                streamRemaining -= take;
                handler.onMessagePart(streamType, buf.slice(pos, pos + take), false, streamRemaining == 0);
                pos += take;
                continue;
            }
            if (startup) {
                if (end - pos < PgProtocol.LENGTH_SIZE) {
                    break;
                }
                int len = buf.getInt(pos);
                if (len < 8 || len > PgProtocol.MAX_STARTUP_PACKET_LENGTH) {
                    throw new ProtocolException("invalid length of startup packet: " + len);
                }
                if (end - pos < len) {
                    break;
                }
                handler.onMessage((byte) 0, buf.slice(pos, pos + len));
                pos += len;
                continue;
            }
            if (end - pos < PgProtocol.HEADER_SIZE) {
                break;
            }
            byte type = buf.getByte(pos);
            int len = buf.getInt(pos + 1);
            if (len < PgProtocol.LENGTH_SIZE) {
                throw new ProtocolException("invalid message length " + len + " for message type '" + printable(type) + "'");
            }
            long total = (long) len + 1;
            if (total <= end - pos && total <= maxMessageSize) {
                handler.onMessage(type, buf.slice(pos, pos + (int) total));
                pos += (int) total;
                continue;
            }
            if (streamable[type & 0xff] && total > streamThreshold) {
                int take = end - pos;
                streamType = type;
                streamRemaining = total - take;
                handler.onMessagePart(type, buf.slice(pos, end), true, false);
                pos = end;
                continue;
            }
            if (total > maxMessageSize) {
                throw new ProtocolException(PgProtocol.SqlState.PROGRAM_LIMIT_EXCEEDED,
                        "message of type '" + printable(type) + "' is " + total + " bytes, more than the maximum of " + maxMessageSize);
            }
            break;
        }
        if (pos < end) {
            Buffer rest = Buffer.buffer(Math.max(end - pos, 256));
            rest.appendBuffer(buf, pos, end - pos);
            pending = rest;
        }
    }

    /**
     * A copy of a framed message (or any buffer) on the heap, for a handler that keeps it past the
     * read it came in: that read's pooled memory goes back once the read is handled.
     */
    public static Buffer kept(Buffer message) {
        return Buffer.buffer(message.getBytes());
    }

    static String printable(byte type) {
        return type >= 0x20 && type < 0x7f ? Character.toString((char) type) : "\\x" + Integer.toHexString(type & 0xff);
    }
}
