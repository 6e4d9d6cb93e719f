package io.pgha.backup.core;

import com.github.luben.zstd.ZstdInputStream;
import com.github.luben.zstd.ZstdOutputStream;
import net.jpountz.lz4.LZ4FrameInputStream;
import net.jpountz.lz4.LZ4FrameOutputStream;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.Arrays;
import java.util.Locale;
import java.util.Optional;

/**
 * How WAL and backups are stored (spec.backup.compression); the suffix makes the choice visible in
 * the repository and tells a reader the codec, so a repository written with one setting stays
 * readable under another. zstd and lz4 write their standard frame formats ({@code zstd -d} and
 * {@code lz4 -d} read them).
 */
public enum Compression {
    ZSTD(".zst"),
    LZ4(".lz4"),
    NONE("");

    /** zstd's default level: fast enough to keep up with a busy primary, and WAL compresses well at it. */
    public static final int ZSTD_LEVEL = 3;

    private final String suffix;

    Compression(String suffix) {
        this.suffix = suffix;
    }

    public String suffix() {
        return suffix;
    }

    /** The name backup.json and spec.backup.compression use: "zstd", "lz4", "none". */
    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Throws IllegalArgumentException naming the value when it is none of zstd, lz4, none. */
    public static Compression ofId(String id) {
        return Arrays.stream(values()).filter(c -> c.id().equals(id)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("not a compression (zstd, lz4, none): " + id));
    }

    /** The codec of a stored file, from its name: the codec whose suffix it ends in, else none. */
    public static Compression ofFileName(String fileName) {
        return Arrays.stream(values()).filter(c -> !c.suffix.isEmpty() && fileName.endsWith(c.suffix)).findFirst()
                .orElse(NONE);
    }

    /** {@code fileName} without this codec's suffix, empty when it does not end in it. */
    public Optional<String> strip(String fileName) {
        return fileName.endsWith(suffix) ? Optional.of(fileName.substring(0, fileName.length() - suffix.length()))
                : Optional.empty();
    }

    /** A stream that compresses what is written to it into {@code out}; closing it ends the frame and closes {@code out}. */
    public OutputStream compressing(OutputStream out) throws IOException {
        return switch (this) {
            case ZSTD -> new ZstdOutputStream(out, ZSTD_LEVEL);
            case LZ4 -> new LZ4FrameOutputStream(out);
            // FilterOutputStream's own write(byte[], int, int) goes byte by byte
            case NONE -> new FilterOutputStream(out) {
                @Override
                public void write(byte[] b, int off, int len) throws IOException {
                    out.write(b, off, len);
                }
            };
        };
    }

    /**
     * The BASE_BACKUP options that make PostgreSQL compress its archive in the very format
     * {@link #decompressing} reads, empty when the server cannot: none, and lz4, whose server-side
     * frames link their blocks, which lz4-java cannot read. {@code workers}: zstd's compression
     * threads in the server (1: none apart from the sender itself).
     */
    public Optional<String> serverOption(int workers) {
        return switch (this) {
            case ZSTD -> Optional.of("COMPRESSION 'zstd', COMPRESSION_DETAIL 'level=" + ZSTD_LEVEL
                    + (workers > 1 ? ",workers=" + workers : "") + "'");
            case LZ4, NONE -> Optional.empty();
        };
    }

    /** The content of a stream this codec wrote. */
    public InputStream decompressing(InputStream in) throws IOException {
        return switch (this) {
            case ZSTD -> new ZstdInputStream(in);
            case LZ4 -> new LZ4FrameInputStream(in);
            case NONE -> in;
        };
    }

    public byte[] compress(byte[] content) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream(content.length / 4 + 64);
        try (OutputStream c = compressing(out)) {
            c.write(content);
        }
        return out.toByteArray();
    }

    public byte[] decompress(byte[] stored) throws IOException {
        try (InputStream in = decompressing(new ByteArrayInputStream(stored))) {
            return in.readAllBytes();
        }
    }
}
