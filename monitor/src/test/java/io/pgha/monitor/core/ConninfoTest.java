package io.pgha.monitor.core;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ConninfoTest {
    @Test
    void parsesPlainAndQuotedValues() {
        Conninfo c = Conninfo.parse("host=127.0.0.1 port = 6443 user=streaming_replica passfile='/tmp/my dir/pgpass' "
                + "application_name=pg-2 options='-c x=\\'y\\''");
        assertEquals("127.0.0.1", c.get("host"));
        assertEquals("6443", c.get("port"));
        assertEquals("/tmp/my dir/pgpass", c.get("passfile"));
        assertEquals("pg-2", c.get("application_name"));
        assertEquals("-c x='y'", c.get("options"));
    }

    @Test
    void printsWhatParsesBackToTheSame() {
        Conninfo c = Conninfo.parse("host=h port=1 passfile='/a b/c' password='it\\'s' empty=''");
        assertEquals(c, Conninfo.parse(c.toString()));
        assertEquals("", c.get("empty"));
        assertTrue(c.toString().contains("passfile='/a b/c'"), c.toString());
        assertFalse(c.redacted().contains("it's"));
    }

    @Test
    void pointsAtAnotherServerKeepingEverythingElse() {
        Conninfo c = Conninfo.parse("host=127.0.0.1 hostaddr=127.0.0.1 port=6443 user=r application_name=pg-3");
        Conninfo moved = c.pointedAt("127.0.0.1", 6444);
        assertEquals("6444", moved.get("port"));
        assertNull(moved.get("hostaddr"));
        assertEquals("pg-3", moved.get("application_name"));
        assertEquals("6443", c.get("port"), "the original is unchanged");
    }

    @Test
    void emptyAndBrokenInput() {
        assertTrue(Conninfo.parse("").isEmpty());
        assertTrue(Conninfo.parse(null).isEmpty());
        assertThrows(IllegalArgumentException.class, () -> Conninfo.parse("host"));
        assertThrows(IllegalArgumentException.class, () -> Conninfo.parse("host='abc"));
    }
}
