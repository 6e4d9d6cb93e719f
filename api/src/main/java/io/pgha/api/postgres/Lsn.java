package io.pgha.api.postgres;

/**
 * A PostgreSQL WAL position (pg_lsn): 64 bits, written as two hexadecimal halves {@code X/Y}.
 * Ordered as unsigned numbers, as PostgreSQL orders them.
 */
public record Lsn(long value) implements Comparable<Lsn> {
    public static final Lsn ZERO = new Lsn(0);

    /** Parses {@code 16/B374D848}; throws IllegalArgumentException on anything else. */
    public static Lsn parse(String text) {
        if (text == null) {
            throw new IllegalArgumentException("no LSN");
        }
        int slash = text.indexOf('/');
        if (slash <= 0 || slash == text.length() - 1 || slash > 8 || text.length() - slash - 1 > 8) {
            throw new IllegalArgumentException("not an LSN: " + text);
        }
        try {
            long high = Long.parseLong(text.substring(0, slash), 16);
            long low = Long.parseLong(text.substring(slash + 1), 16);
            return new Lsn((high << 32) | low);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("not an LSN: " + text, e);
        }
    }

    /** {@link #parse} for values that may be absent (SQL NULL): null in, null out. */
    public static Lsn parseNullable(String text) {
        return text == null ? null : parse(text);
    }

    /** The later of two positions, either of which may be null. */
    public static Lsn max(Lsn a, Lsn b) {
        if (a == null) {
            return b;
        }
        if (b == null) {
            return a;
        }
        return a.compareTo(b) >= 0 ? a : b;
    }

    /** Bytes from {@code other} up to this position; negative when {@code other} is ahead. */
    public long minus(Lsn other) {
        return value - other.value;
    }

    /** The position {@code bytes} further on. */
    public Lsn plus(long bytes) {
        return new Lsn(value + bytes);
    }

    public boolean isAfter(Lsn other) {
        return compareTo(other) > 0;
    }

    public boolean isAtLeast(Lsn other) {
        return compareTo(other) >= 0;
    }

    @Override
    public int compareTo(Lsn o) {
        return Long.compareUnsigned(value, o.value);
    }

    @Override
    public String toString() {
        return Long.toHexString(value >>> 32).toUpperCase() + "/" + Long.toHexString(value & 0xFFFFFFFFL).toUpperCase();
    }
}
