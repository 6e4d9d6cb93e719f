package io.pgha.backup.core;

import com.github.luben.zstd.ZstdInputStream;
import com.github.luben.zstd.ZstdOutputStream;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.Locale;

/**
 * How WAL and backups are stored; the suffix makes the choice visible in the repository and lets a reader pick
 * the codec. Only zstd so far: spec.backup.compression (lz4, none) is not in the model yet.
 */
public enum Compression {
    ZSTD(".zst");

    /** zstd's default level: fast enough to keep up with a busy primary, and WAL compresses well at it. */
    public static final int ZSTD_LEVEL = 3;

    private final String suffix;

    Compression(String suffix) {
        this.suffix = suffix;
    }

    public String suffix() {
        return suffix;
    }

    /** The name backup.json records: "zstd". */
    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** A stream that compresses what is written to it into {@code out}; closing it ends the frame and closes {@code out}. */
    public OutputStream compressing(OutputStream out) throws IOException {
        return new ZstdOutputStream(out, ZSTD_LEVEL);
    }

    /** The content of a stream this codec wrote. */
    public InputStream decompressing(InputStream in) throws IOException {
        return new ZstdInputStream(in);
    }
}
