package io.pgha.backup.core;

/**
 * How WAL is stored; the suffix makes the choice visible in the repository and lets a reader pick
 * the codec. Only zstd so far: spec.backup.compression (lz4, none) is not in the model yet.
 */
public enum Compression {
    ZSTD(".zst");

    private final String suffix;

    Compression(String suffix) {
        this.suffix = suffix;
    }

    public String suffix() {
        return suffix;
    }
}
