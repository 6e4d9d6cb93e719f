package io.pgha.api.schedule;

import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.temporal.ChronoUnit;
import java.util.BitSet;
import java.util.Optional;

/**
 * A standard five-field cron expression (minute, hour, day of month, month, day of week), always
 * in UTC, so there is no daylight-saving gap or repeat. Each field takes {@code *}, a number, a
 * range {@code a-b}, a step {@code *}{@code /n}, {@code a-b/n} or {@code a/n} (from a to the
 * field's end), and comma-separated lists of those; day of week is 0-7 with both 0 and 7 Sunday.
 * As in cron, when both day of month and day of week are restricted (neither starts with
 * {@code *}) a day matches if either does; otherwise both must.
 *
 * <p>Five fields, not six: an expression with seconds first (Quartz, CloudNativePG) is refused
 * rather than read as something that fires sixty times more often.
 */
public final class CronSchedule {
    /** How far ahead or back a search looks before deciding the expression never fires (e.g. 31 February). */
    private static final int SEARCH_DAYS = 366 * 8;

    private enum Field {
        MINUTE("minute", 0, 59), HOUR("hour", 0, 23), DAY_OF_MONTH("day of month", 1, 31),
        MONTH("month", 1, 12), DAY_OF_WEEK("day of week", 0, 7);

        final String label;
        final int min;
        final int max;

        Field(String label, int min, int max) {
            this.label = label;
            this.min = min;
            this.max = max;
        }
    }

    private final String expression;
    private final BitSet minutes;
    private final BitSet hours;
    private final BitSet daysOfMonth;
    private final BitSet months;
    /** 0-6, Sunday 0 (a 7 in the expression is folded into 0). */
    private final BitSet daysOfWeek;
    private final boolean domRestricted;
    private final boolean dowRestricted;

    private CronSchedule(String expression, String[] f) {
        this.expression = expression;
        minutes = parse(f[0], Field.MINUTE);
        hours = parse(f[1], Field.HOUR);
        daysOfMonth = parse(f[2], Field.DAY_OF_MONTH);
        months = parse(f[3], Field.MONTH);
        BitSet dow = parse(f[4], Field.DAY_OF_WEEK);
        if (dow.get(7)) {
            dow.set(0);
            dow.clear(7);
        }
        daysOfWeek = dow;
        domRestricted = !f[2].startsWith("*");
        dowRestricted = !f[4].startsWith("*");
    }

    /** Throws IllegalArgumentException with one line naming what is wrong. */
    public static CronSchedule parse(String expression) {
        if (expression == null || expression.isBlank()) {
            throw new IllegalArgumentException("empty cron expression");
        }
        String[] fields = expression.trim().split("\\s+");
        if (fields.length != 5) {
            throw new IllegalArgumentException("cron expression '" + expression + "' has " + fields.length
                    + " fields; pgha takes five (minute hour day-of-month month day-of-week, UTC), no seconds");
        }
        try {
            return new CronSchedule(expression.trim(), fields);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("cron expression '" + expression + "': " + e.getMessage(), e);
        }
    }

    private static BitSet parse(String text, Field field) {
        BitSet set = new BitSet(field.max + 1);
        for (String part : text.split(",", -1)) {
            if (part.isEmpty()) {
                throw new IllegalArgumentException("empty list item in the " + field.label + " field '" + text + "'");
            }
            int step = 1;
            String range = part;
            int slash = part.indexOf('/');
            if (slash >= 0) {
                step = number(part.substring(slash + 1), field, "step");
                if (step < 1) {
                    throw new IllegalArgumentException("step 0 in the " + field.label + " field '" + text + "'");
                }
                range = part.substring(0, slash);
            }
            int from;
            int to;
            if (range.equals("*")) {
                from = field.min;
                to = field.max == 7 ? 6 : field.max;
            } else {
                int dash = range.indexOf('-');
                if (dash >= 0) {
                    from = number(range.substring(0, dash), field, "value");
                    to = number(range.substring(dash + 1), field, "value");
                } else {
                    from = number(range, field, "value");
                    to = slash >= 0 ? field.max : from;
                }
            }
            if (from < field.min || to > field.max || from > to) {
                throw new IllegalArgumentException("'" + part + "' is outside " + field.min + "-" + field.max
                        + " in the " + field.label + " field");
            }
            for (int v = from; v <= to; v += step) {
                set.set(v);
            }
        }
        return set;
    }

    private static int number(String s, Field field, String what) {
        if (!s.matches("[0-9]{1,2}")) {
            throw new IllegalArgumentException("'" + s + "' is not a " + what + " in the " + field.label + " field");
        }
        return Integer.parseInt(s);
    }

    public String expression() {
        return expression;
    }

    private boolean dayMatches(LocalDate d) {
        if (!months.get(d.getMonthValue())) {
            return false;
        }
        boolean dom = daysOfMonth.get(d.getDayOfMonth());
        boolean dow = daysOfWeek.get(d.getDayOfWeek().getValue() % 7);
        if (domRestricted && dowRestricted) {
            return dom || dow;
        }
        return dom && dow;
    }

    /** The first time strictly after {@code after} that matches; empty when it never does. */
    public Optional<Instant> nextAfter(Instant after) {
        ZonedDateTime start = after.atZone(ZoneOffset.UTC).truncatedTo(ChronoUnit.MINUTES).plusMinutes(1);
        LocalDate day = start.toLocalDate();
        for (int i = 0; i < SEARCH_DAYS; i++, day = day.plusDays(1)) {
            if (!dayMatches(day)) {
                continue;
            }
            int fromMinuteOfDay = i == 0 ? start.getHour() * 60 + start.getMinute() : 0;
            for (int h = hours.nextSetBit(fromMinuteOfDay / 60); h >= 0; h = hours.nextSetBit(h + 1)) {
                int m = minutes.nextSetBit(h == fromMinuteOfDay / 60 ? fromMinuteOfDay % 60 : 0);
                if (m >= 0) {
                    return Optional.of(day.atTime(h, m).toInstant(ZoneOffset.UTC));
                }
            }
        }
        return Optional.empty();
    }

    /** The latest time at or before {@code atOrBefore} that matches; empty when there is none in reach. */
    public Optional<Instant> latestAtOrBefore(Instant atOrBefore) {
        ZonedDateTime end = atOrBefore.atZone(ZoneOffset.UTC).truncatedTo(ChronoUnit.MINUTES);
        LocalDate day = end.toLocalDate();
        for (int i = 0; i < SEARCH_DAYS; i++, day = day.minusDays(1)) {
            if (!dayMatches(day)) {
                continue;
            }
            int toMinuteOfDay = i == 0 ? end.getHour() * 60 + end.getMinute() : 24 * 60 - 1;
            for (int h = hours.previousSetBit(toMinuteOfDay / 60); h >= 0; h = hours.previousSetBit(h - 1)) {
                int m = minutes.previousSetBit(h == toMinuteOfDay / 60 ? toMinuteOfDay % 60 : 59);
                if (m >= 0) {
                    return Optional.of(day.atTime(h, m).toInstant(ZoneOffset.UTC));
                }
            }
        }
        return Optional.empty();
    }

    /**
     * Whether a scheduled run is due at {@code now}: a matching time has passed since
     * {@code lastRun} (the start of the last backup, or when the service began watching). However
     * many slots passed meanwhile (the service was down), that is one run, never one per slot.
     */
    public boolean due(Instant lastRun, Instant now) {
        return latestAtOrBefore(now).map(slot -> slot.isAfter(lastRun)).orElse(false);
    }

    @Override
    public String toString() {
        return expression;
    }
}
