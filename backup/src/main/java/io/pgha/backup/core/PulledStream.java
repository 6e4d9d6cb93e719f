package io.pgha.backup.core;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;

/**
 * A stream served one buffer at a time, each pulled from its source only once the one before is
 * used up: the reader sets the pace, and nothing but the buffer being served is held.
 */
public abstract class PulledStream extends InputStream {
    private ByteBuffer current = ByteBuffer.allocate(0);
    private boolean ended;

    /** The next bytes to serve (possibly none), or null once there are no more. */
    protected abstract ByteBuffer pull() throws IOException;

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        return read(one, 0, 1) < 0 ? -1 : one[0] & 0xFF;
    }

    @Override
    public int read(byte[] buf, int off, int len) throws IOException {
        if (len == 0) {
            return 0;
        }
        while (!current.hasRemaining()) {
            if (ended) {
                return -1;
            }
            ByteBuffer next = pull();
            if (next == null) {
                ended = true;
            } else {
                current = next;
            }
        }
        int n = Math.min(len, current.remaining());
        current.get(buf, off, n);
        return n;
    }
}
