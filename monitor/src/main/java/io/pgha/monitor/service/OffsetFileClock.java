package io.pgha.monitor.service;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.function.LongSupplier;

/**
 * A test hook (configured by {@code pgha.monitor.clock-offset-file}): the system wall clock plus
 * the number of milliseconds, possibly negative, written in a file, so a fault test can step one
 * monitor's wall clock forwards or backwards while it runs, as NTP or an operator would. The
 * monotonic clock ({@link System#nanoTime()}) is not touched: a real step does not move it either.
 * A missing or empty file means no offset. The file is read again at most every {@link #REREAD_NANOS}.
 */
final class OffsetFileClock extends Clock {
    static final long REREAD_NANOS = 20_000_000L;

    private final Path file;
    private final Clock system;
    private final LongSupplier nanos;
    private long offsetMillis;
    private long readAt;
    private boolean read;

    OffsetFileClock(Path file, Clock system, LongSupplier nanos) {
        this.file = file;
        this.system = system;
        this.nanos = nanos;
    }

    @Override
    public ZoneId getZone() {
        return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
        throw new UnsupportedOperationException("the monitor's clock is UTC");
    }

    @Override
    public Instant instant() {
        return system.instant().plusMillis(offsetMillis());
    }

    synchronized long offsetMillis() {
        long now = nanos.getAsLong();
        if (!read || now - readAt >= REREAD_NANOS) {
            offsetMillis = readOffset();
            readAt = now;
            read = true;
        }
        return offsetMillis;
    }

    private long readOffset() {
        try {
            String text = Files.readString(file, StandardCharsets.UTF_8).strip();
            return text.isEmpty() ? 0 : Long.parseLong(text);
        } catch (NoSuchFileException e) {
            return 0;
        } catch (IOException | NumberFormatException e) {
            // a half-written file: keep the offset last read
            return offsetMillis;
        }
    }
}
