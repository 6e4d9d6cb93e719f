package io.pgha.router.proxy;

import io.pgha.router.pool.ServerParameters;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SessionParametersTest {
    @Test
    void aNewConnectionGetsTheStartupValuesOnceAndThenNothing() {
        SessionParameters client = new SessionParameters(Map.of("application_name", "'app'"));
        ServerParameters server = new ServerParameters();
        assertEquals("SET application_name = 'app';", client.align(server));
        assertNull(client.align(server));
    }

    @Test
    void whatAnotherClientSetGoesBackToTheServersDefault() {
        ServerParameters server = new ServerParameters();
        SessionParameters a = new SessionParameters(Map.of());
        a.set(TrackedSet.parse("SET search_path = other, public"), server);
        assertEquals("other, public", server.get("search_path"));

        SessionParameters b = new SessionParameters(Map.of());
        assertEquals("SET search_path TO DEFAULT;", b.align(server));
        assertNull(server.get("search_path"));
        assertEquals("SET search_path = other, public;", a.align(server), "a keeps its own value");
    }

    @Test
    void onlyWhatDiffersIsSet() {
        ServerParameters server = new ServerParameters();
        new SessionParameters(Map.of("timezone", "'UTC'", "application_name", "'a'")).align(server);
        String sql = new SessionParameters(Map.of("timezone", "'UTC'", "application_name", "'b'")).align(server);
        assertEquals("SET application_name = 'b';", sql);
    }

    @Test
    void aResetReturnsTheParameterToTheServersDefaultEverywhere() {
        ServerParameters first = new ServerParameters();
        SessionParameters client = new SessionParameters(Map.of("search_path", "'app'"));
        client.align(first);
        client.set(TrackedSet.parse("RESET search_path"), first);
        assertNull(first.get("search_path"), "the RESET ran on this connection");
        assertNull(client.align(first));

        ServerParameters other = new ServerParameters();
        other.set("search_path", "'app'");
        assertEquals("SET search_path TO DEFAULT;", client.align(other));
        client.set(TrackedSet.parse("set search_path = default"), other);
        assertNull(client.align(other));
    }

    @Test
    void unknownParametersAreAllSetAgain() {
        ServerParameters server = new ServerParameters();
        SessionParameters client = new SessionParameters(Map.of("application_name", "'app'"));
        client.align(server);
        server.unknown();
        String sql = client.align(server);
        assertTrue(sql.startsWith("SET application_name = 'app';"), sql);
        for (String name : TrackedSet.PARAMETERS) {
            if (!name.equals("application_name")) {
                assertTrue(sql.contains("SET " + name + " TO DEFAULT;"), sql);
            }
        }
        assertTrue(server.known());
        assertNull(client.align(server));
    }
}
