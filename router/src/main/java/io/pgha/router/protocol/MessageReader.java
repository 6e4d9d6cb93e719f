package io.pgha.router.protocol;

import io.netty.buffer.ByteBuf;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.buffer.impl.BufferImpl;

import java.nio.charset.StandardCharsets;

/**
 * A bounds-checked cursor over one complete message (header included). Every read past the end,
 * and every unterminated string, is a {@link ProtocolException}, never an index exception.
 */
public final class MessageReader {
    private final Buffer message;
    private final int end;
    private int pos;

    /** Starts after the 5-byte header of a typed message. */
    public MessageReader(Buffer message) {
        this(message, PgProtocol.HEADER_SIZE);
    }

    public MessageReader(Buffer message, int start) {
        this.message = message;
        this.end = message.length();
        if (start > end) {
            throw new ProtocolException("message shorter than its header");
        }
        this.pos = start;
    }

    public int position() {
        return pos;
    }

    public int remaining() {
        return end - pos;
    }

    public byte readByte() {
        need(1);
        return message.getByte(pos++);
    }

    public short readShort() {
        need(2);
        short v = message.getShort(pos);
        pos += 2;
        return v;
    }

    public int readInt() {
        need(4);
        int v = message.getInt(pos);
        pos += 4;
        return v;
    }

    /** A NUL-terminated UTF-8 string. */
    public String readCString() {
        // on the buffer's own bytes (indexed from 0 like the Buffer): a search Netty vectorizes and
        // one decoding, instead of a call per byte and a copy of the bytes before decoding them
        ByteBuf bytes = ((BufferImpl) message).byteBuf();
        int nul = bytes.indexOf(pos, end, (byte) 0);
        if (nul < 0) {
            throw new ProtocolException("unterminated string in message");
        }
        String s = bytes.toString(pos, nul - pos, StandardCharsets.UTF_8);
        pos = nul + 1;
        return s;
    }

    public Buffer readBytes(int n) {
        if (n < 0) {
            throw new ProtocolException("negative length " + n + " in message");
        }
        need(n);
        Buffer b = message.slice(pos, pos + n);
        pos += n;
        return b;
    }

    public void skip(int n) {
        if (n < 0) {
            throw new ProtocolException("negative length " + n + " in message");
        }
        need(n);
        pos += n;
    }

    /** Insists that the message has been read exactly to its end. */
    public void expectEnd() {
        if (pos != end) {
            throw new ProtocolException("message has " + (end - pos) + " unexpected trailing bytes");
        }
    }

    private void need(int n) {
        if (end - pos < n) {
            throw new ProtocolException("message too short");
        }
    }
}
