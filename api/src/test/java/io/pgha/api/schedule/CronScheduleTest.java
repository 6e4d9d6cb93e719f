package io.pgha.api.schedule;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CronScheduleTest {
    private static final Instant T0 = Instant.parse("2026-12-05T00:00:00Z");

    private static List<Instant> firings(String expression, Instant from, Duration span) {
        CronSchedule c = CronSchedule.parse(expression);
        List<Instant> result = new ArrayList<>();
        Instant t = from.minusSeconds(1);
        while (true) {
            Instant next = c.nextAfter(t).orElseThrow();
            if (!next.isBefore(from.plus(span))) {
                return result;
            }
            result.add(next);
            t = next;
        }
    }

    @Test
    void sevenOClockFiresOnceADayAtSevenNotHourly() {
        List<Instant> f = firings("0 7 * * *", T0, Duration.ofDays(3));
        assertEquals(List.of(Instant.parse("2026-12-05T07:00:00Z"), Instant.parse("2026-12-06T07:00:00Z"),
                Instant.parse("2026-12-07T07:00:00Z")), f);
    }

    @Test
    void everyFifteenMinutesFiresFourTimesAnHour() {
        List<Instant> f = firings("*/15 * * * *", Instant.parse("2026-12-05T10:00:00Z"), Duration.ofHours(1));
        assertEquals(List.of(Instant.parse("2026-12-05T10:00:00Z"), Instant.parse("2026-12-05T10:15:00Z"),
                Instant.parse("2026-12-05T10:30:00Z"), Instant.parse("2026-12-05T10:45:00Z")), f);
    }

    @Test
    void everyMinuteFiresOnTheNextMinuteBoundary() {
        CronSchedule c = CronSchedule.parse("* * * * *");
        assertEquals(Instant.parse("2026-12-05T10:01:00Z"), c.nextAfter(Instant.parse("2026-12-05T10:00:00Z")).orElseThrow());
        assertEquals(Instant.parse("2026-12-05T10:01:00Z"), c.nextAfter(Instant.parse("2026-12-05T10:00:59.9Z")).orElseThrow());
    }

    @Test
    void rangesListsAndSteps() {
        // minutes 5 and 10-20 every 5, hours 8-9
        List<Instant> f = firings("5,10-20/5 8-9 * * *", T0, Duration.ofDays(1));
        assertEquals(8, f.size(), f.toString());
        assertEquals(Instant.parse("2026-12-05T08:05:00Z"), f.get(0));
        assertEquals(Instant.parse("2026-12-05T08:10:00Z"), f.get(1));
        assertEquals(Instant.parse("2026-12-05T09:20:00Z"), f.get(7));
        // a/n runs from a to the field's end
        assertEquals(List.of(Instant.parse("2026-12-05T22:00:00Z")), firings("0 22/5 * * *", T0, Duration.ofDays(1)));
    }

    @Test
    void dayOfWeekAloneAndSundayAsSeven() {
        // 2026-12-05 is a Saturday; 2026-12-06 the Sunday after
        assertEquals(Instant.parse("2026-12-06T03:00:00Z"), CronSchedule.parse("0 3 * * 0").nextAfter(T0).orElseThrow());
        assertEquals(Instant.parse("2026-12-06T03:00:00Z"), CronSchedule.parse("0 3 * * 7").nextAfter(T0).orElseThrow());
        assertEquals(Instant.parse("2026-12-07T03:00:00Z"), CronSchedule.parse("0 3 * * 1-5").nextAfter(T0).orElseThrow());
    }

    @Test
    void bothDayFieldsRestrictedMatchEitherAsCronDoes() {
        // the 1st of the month OR any Monday: Monday 7 December comes before 1 January
        List<Instant> f = firings("0 0 1 * 1", T0, Duration.ofDays(28));
        assertEquals(List.of(Instant.parse("2026-12-07T00:00:00Z"), Instant.parse("2026-12-14T00:00:00Z"),
                Instant.parse("2026-12-21T00:00:00Z"), Instant.parse("2026-12-28T00:00:00Z"),
                Instant.parse("2027-01-01T00:00:00Z")), f);
        // day of week '*': only the day of month counts
        assertEquals(List.of(Instant.parse("2027-01-01T00:00:00Z")), firings("0 0 1 * *", T0, Duration.ofDays(28)));
        // day of month '*' with a restricted day of week: only Mondays
        assertEquals(4, firings("0 0 * * 1", T0, Duration.ofDays(27)).size());
    }

    @Test
    void monthsAndImpossibleDates() {
        assertEquals(Instant.parse("2028-02-29T12:00:00Z"), CronSchedule.parse("0 12 29 2 *").nextAfter(T0).orElseThrow());
        assertTrue(CronSchedule.parse("0 0 31 2 *").nextAfter(T0).isEmpty(), "31 February never comes");
    }

    @Test
    void latestSlotAndMissedRunsDoNotPileUp() {
        CronSchedule c = CronSchedule.parse("*/15 * * * *");
        Instant now = Instant.parse("2026-12-05T10:52:10Z");
        assertEquals(Instant.parse("2026-12-05T10:45:00Z"), c.latestAtOrBefore(now).orElseThrow());
        assertEquals(Instant.parse("2026-12-05T10:45:00Z"), c.latestAtOrBefore(Instant.parse("2026-12-05T10:45:00Z")).orElseThrow());
        // the service was down for three hours (twelve slots): one run is due, and once it ran, none
        Instant lastRun = Instant.parse("2026-12-05T07:46:00Z");
        assertTrue(c.due(lastRun, now));
        assertFalse(c.due(now, now.plusSeconds(60)));
        assertTrue(c.due(now, Instant.parse("2026-12-05T11:00:00Z")));
        assertEquals(Instant.parse("2026-12-04T07:00:00Z"),
                CronSchedule.parse("0 7 * * *").latestAtOrBefore(Instant.parse("2026-12-05T06:59:59Z")).orElseThrow());
    }

    @Test
    void refusesSixFieldsAndBadValuesInOneLine() {
        String six = assertThrows(IllegalArgumentException.class, () -> CronSchedule.parse("0 0 7 * * *")).getMessage();
        assertTrue(six.contains("6 fields") && six.contains("no seconds"), six);
        for (String bad : List.of("60 * * * *", "* 24 * * *", "* * 0 * *", "* * * 13 *", "* * * * 8", "*/0 * * * *",
                "a * * * *", "5-1 * * * *", "1,,2 * * * *", "")) {
            String m = assertThrows(IllegalArgumentException.class, () -> CronSchedule.parse(bad), bad).getMessage();
            assertFalse(m.contains("\n"), m);
        }
        assertTrue(assertThrows(IllegalArgumentException.class, () -> CronSchedule.parse("* 24 * * *")).getMessage()
                .contains("hour"));
    }
}
