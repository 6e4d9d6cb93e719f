package io.pgha.backup.core;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;

/**
 * pg_basebackup's tar stream as the repository stores it: the manifest taken out (see
 * {@link BaseTarFilter}), the rest compressed, pulled on demand so that nothing but a buffer's
 * worth is ever held. The stream ends only when the tar is complete and {@code atEnd} (which
 * checks how pg_basebackup exited) raised nothing: a backup cut short fails its repository put,
 * which then stores nothing.
 */
public final class CompressedBaseTar extends InputStream {
    /** What must hold once the source is exhausted, before the stream may end. */
    public interface EndCheck {
        void check() throws IOException;
    }

    private static final int CHUNK = 1 << 16;

    private final InputStream source;
    private final EndCheck atEnd;
    private final Pending pending = new Pending();
    private final OutputStream compressor;
    private final BaseTarFilter filter;
    private final byte[] chunk = new byte[CHUNK];
    private int served;
    private boolean ended;

    public CompressedBaseTar(InputStream source, Compression compression, EndCheck atEnd) throws IOException {
        this.source = source;
        this.atEnd = atEnd;
        this.compressor = compression.compressing(pending);
        this.filter = new BaseTarFilter(compressor);
    }

    /** The tar filter, for the manifest, backup_label and the uncompressed bytes read so far. */
    public BaseTarFilter tar() {
        return filter;
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
            filter.write(chunk, 0, n);
            return;
        }
        ended = true;
        // ends the compressed frame into the buffer
        compressor.close();
        filter.checkComplete();
        atEnd.check();
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
