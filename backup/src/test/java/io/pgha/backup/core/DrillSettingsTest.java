package io.pgha.backup.core;

import org.junit.jupiter.api.Test;

import java.net.URI;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DrillSettingsTest {
    private static final Path TOKEN = Path.of("/d/wal-token.header");

    @Test
    void theDrillRecoversToTheFirstConsistentStateArchivesNothingAndListensOnlyOnItsSocket() {
        String command = DrillSettings.restoreCommand(URI.create("http://127.0.0.1:6472/wal/pg/"), TOKEN);
        Map<String, String> s = DrillSettings.of(21000, "/var/lib/pgha/drills/pg-1a2b3c4d", command);
        assertEquals("immediate", s.get("recovery_target"));
        assertEquals("shutdown", s.get("recovery_target_action"));
        assertEquals("off", s.get("hot_standby"), "without hot standby, pause would not stop the server");
        assertEquals("off", s.get("archive_mode"), "a drill's WAL never reaches the cluster's archive");
        assertEquals("", s.get("listen_addresses"));
        assertEquals("/var/lib/pgha/drills/pg-1a2b3c4d", s.get("unix_socket_directories"));
        assertEquals("21000", s.get("port"));
        assertEquals("C", s.get("lc_messages"), "RecoveryLog reads English messages");
        assertEquals("", s.get("log_line_prefix"));
        assertEquals(command, s.get("restore_command"));
    }

    @Test
    void restoreCommandFetchesFromTheArchiveEndpointAndPrintsTheServicesReasonOnFailure() {
        String command = DrillSettings.restoreCommand(URI.create("http://127.0.0.1:6472/wal/pg/"), TOKEN);
        assertTrue(command.startsWith("curl -sS --fail-with-body --max-time 300 -H @'/d/wal-token.header' -o %p "
                + "http://127.0.0.1:6472/wal/pg/%f "), command);
        assertTrue(command.endsWith("|| { cat %p >&2; rm -f %p; exit 1; }"), command);
        assertThrows(IllegalArgumentException.class, () -> DrillSettings.restoreCommand(URI.create("http://127.0.0.1:6472/wal/pg"), TOKEN));
        assertThrows(IllegalArgumentException.class, () -> DrillSettings.restoreCommand(URI.create("http://h/wal/a'b/"), TOKEN));
    }
}
