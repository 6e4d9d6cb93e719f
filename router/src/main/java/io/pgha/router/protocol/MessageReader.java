package io.pgha.router.protocol;

import io.vertx.core.buffer.Buffer;

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
        int nul = -1;
        for (int i = pos; i < end; i++) {
            if (message.getByte(i) == 0) {
                nul = i;
                break;
            }
        }
        if (nul < 0) {
            throw new ProtocolException("unterminated string in message");
        }
        String s = message.getString(pos, nul, StandardCharsets.UTF_8.name());
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
