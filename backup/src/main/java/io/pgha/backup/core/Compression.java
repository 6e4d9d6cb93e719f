package io.pgha.backup.core;

/** How WAL is stored; the suffix makes the choice visible in the repository and lets a reader pick the codec. */
public enum Compression {
    ZSTD(".zst"),
    NONE("");

    private final String suffix;

    Compression(String suffix) {
        this.suffix = suffix;
    }

    public String suffix() {
        return suffix;
    }
}
