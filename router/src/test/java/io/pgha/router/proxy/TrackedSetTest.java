package io.pgha.router.proxy;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

class TrackedSetTest {
    @Test
    void recognizesLoneSetsOfTrackedParameters() {
        assertEquals(new TrackedSet.Assignment("application_name", "'PostgreSQL JDBC Driver'"),
                TrackedSet.parse("SET application_name = 'PostgreSQL JDBC Driver'"));
        assertEquals(new TrackedSet.Assignment("timezone", "'Asia/Tokyo'"), TrackedSet.parse("set timezone to 'Asia/Tokyo'"));
        assertEquals(new TrackedSet.Assignment("timezone", "'UTC'"), TrackedSet.parse("SET TIME ZONE 'UTC';"));
        assertEquals(new TrackedSet.Assignment("search_path", "app, public"), TrackedSet.parse("set session search_path to app, public"));
        assertEquals(new TrackedSet.Assignment("datestyle", "DEFAULT"), TrackedSet.parse("RESET DateStyle"));
        assertEquals(new TrackedSet.Assignment("extra_float_digits", "3"), TrackedSet.parse("SET extra_float_digits = 3"));
    }

    @Test
    void leavesEverythingElseToPinning() {
        assertNull(TrackedSet.parse("set work_mem = '1GB'"));
        assertNull(TrackedSet.parse("set local timezone = 'UTC'"));
        assertNull(TrackedSet.parse("set application_name = 'a'; drop table t"));
        assertNull(TrackedSet.parse("set application_name = 'a'; select 1"));
        assertNull(TrackedSet.parse("set application_name = 'unterminated"));
        assertNull(TrackedSet.parse("set application_name = 'x' -- comment"));
        assertNull(TrackedSet.parse("select 1"));
        assertNull(TrackedSet.parse("reset all"));
    }
}
