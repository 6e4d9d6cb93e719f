package io.pgha.backup.core;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;

/**
 * A base backup's archive compressed by the backup service, for a codec the server cannot write
 * in the repository's format (see {@link Compression#serverOption}); pulled on demand so that
 * nothing but a buffer's worth is ever held. It ends only when its source ended: a source that
 * fails fails this stream, and with it the repository put that reads it.
 */
public final class CompressedBaseTar extends PulledStream {
    private static final int CHUNK = 1 << 16;

    private final InputStream source;
    private final Pending pending = new Pending();
    private final OutputStream compressor;
    private final byte[] chunk = new byte[CHUNK];
    private boolean sourceEnded;

    public CompressedBaseTar(InputStream source, Compression compression) throws IOException {
        this.source = source;
        this.compressor = compression.compressing(pending);
    }

    /** First what the codec wrote when it was set up (its frame header), then what each chunk of the source compresses to. */
    @Override
    protected ByteBuffer pull() throws IOException {
        if (pending.size() == 0) {
            if (sourceEnded) {
                return null;
            }
            fill();
        }
        ByteBuffer out = ByteBuffer.wrap(pending.bytes(), 0, pending.size());
        // the array keeps these bytes until the next write into it, which comes only once they are served
        pending.reset();
        return out;
    }

    private void fill() throws IOException {
        int n = source.read(chunk);
        if (n >= 0) {
            compressor.write(chunk, 0, n);
            return;
        }
        sourceEnded = true;
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
