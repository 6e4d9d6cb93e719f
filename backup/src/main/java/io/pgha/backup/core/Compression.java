package io.pgha.backup.core;

/**
 * How WAL is stored; the suffix makes the choice visible in the repository and lets a reader pick
 * the codec. Only zstd so far: spec.backup.compression (lz4, none) is not in the model yet.
 */
public enum Compression {
    ZSTD(".zst");

    /** The codec backup.json names ("zstd"); throws IllegalArgumentException for one this build cannot read. */
    public static Compression named(String name) {
        if ("zstd".equals(name)) {
            return ZSTD;
        }
        throw new IllegalArgumentException("compression '" + name + "' is not supported by this version");
    }

    private final String suffix;

    Compression(String suffix) {
        this.suffix = suffix;
    }

    public String suffix() {
        return suffix;
    }
}
