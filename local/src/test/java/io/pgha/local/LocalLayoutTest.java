package io.pgha.local;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;

class LocalLayoutTest {
    @Test
    void standbysStreamWithTheirOwnPassfile() {
        LocalLayout layout = new LocalLayout(Path.of("/var/lib/pgha"), 6432);
        assertEquals("host=127.0.0.1 port=6443 user=streaming_replica passfile=/var/lib/pgha/instances/pg-2/pgpass sslmode=prefer",
                layout.replicationConninfo("pg-2", 6443));
    }

    @Test
    void pathsWithSpacesOrQuotesAreQuoted() {
        assertEquals("'/my dir/it\\'s'", LocalLayout.conninfoValue("/my dir/it's"));
        assertEquals("/plain", LocalLayout.conninfoValue("/plain"));
    }
}
