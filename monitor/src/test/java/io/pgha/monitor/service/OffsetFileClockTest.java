package io.pgha.monitor.service;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;

class OffsetFileClockTest {
    private static final Instant NOW = Instant.parse("2026-12-05T01:00:00Z");

    @Test
    void addsTheFilesMillisecondsAndRereadsThemAfterAWhile(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("offset");
        AtomicLong nanos = new AtomicLong();
        OffsetFileClock clock = new OffsetFileClock(file, Clock.fixed(NOW, ZoneOffset.UTC), nanos::get);
        assertEquals(NOW, clock.instant(), "no file, no offset");

        Files.writeString(file, "-3600000\n");
        assertEquals(NOW, clock.instant(), "read again only after a while");
        nanos.addAndGet(OffsetFileClock.REREAD_NANOS);
        assertEquals(NOW.minusSeconds(3600), clock.instant());

        Files.writeString(file, "not a number");
        nanos.addAndGet(OffsetFileClock.REREAD_NANOS);
        assertEquals(NOW.minusSeconds(3600), clock.instant(), "a half-written file keeps the last offset");

        Files.writeString(file, "90000");
        nanos.addAndGet(OffsetFileClock.REREAD_NANOS);
        assertEquals(NOW.plusSeconds(90), clock.instant());
    }
}
