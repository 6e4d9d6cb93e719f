package io.pgha.backup.core;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;

/**
 * A base backup's archive compressed by the backup service, for a codec the server cannot write
 * in the repository's format (see {@link Compression#serverOption}); pulled on demand so that
 * nothing but a buffer's worth is ever held. It ends only when its source ended: a source that
 * fails fails this stream, and with it the repository put that reads it.
 */
public final class CompressedBaseTar extends InputStream {
    private static final int CHUNK = 1 << 16;

    private final InputStream source;
    private final Pending pending = new Pending();
    private final OutputStream compressor;
    private final byte[] chunk = new byte[CHUNK];
    private int served;
    private boolean ended;

    public CompressedBaseTar(InputStream source, Compression compression) throws IOException {
        this.source = source;
        this.compressor = compression.compressing(pending);
    }

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
        while (served == pending.size()) {
            if (ended) {
                return -1;
            }
            pending.reset();
            served = 0;
            fill();
        }
        int n = Math.min(len, pending.size() - served);
        System.arraycopy(pending.bytes(), served, buf, off, n);
        served += n;
        return n;
    }

    private void fill() throws IOException {
        int n = source.read(chunk);
        if (n >= 0) {
            compressor.write(chunk, 0, n);
            return;
        }
        ended = true;
        // ends the compressed frame into the buffer
        compressor.close();
    }

    @Override
    public void close() throws IOException {
        source.close();
    }

    /** A byte buffer whose content can be served without copying it out first. */
    private static final class Pending extends ByteArrayOutputStream {
        byte[] bytes() {
            return buf;
        }
    }
}
