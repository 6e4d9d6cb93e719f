package io.pgha.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A base backup of a cluster without standbys comes from the primary, where PostgreSQL itself
 * waits at the end of the backup until its end segment is archived; when archiving is broken,
 * the backup gives up after the WAL timeout instead of waiting for ever.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Order(1) // first in the sequence, beside ScheduleRetentionE2ETest (junit-platform.properties)
class PrimaryBackupE2ETest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private Launcher pgha;

    @BeforeAll
    void up() throws Exception {
        pgha = new Launcher().env("PGHA_BACKUP_WAL_TIMEOUT", "15s");
        Path manifest = pgha.home.resolve("single.yaml");
        Files.writeString(manifest, Files.readString(Path.of("../deploy/examples/cluster.yaml")).replace("instances: 3", "instances: 1"));
        pgha.run("up", "-f", manifest.toString()).ok();
    }

    @AfterAll
    void down() throws Exception {
        pgha.close();
    }

    private JsonNode last() throws Exception {
        JsonNode backups = JSON.readTree(pgha.run("backups", "--json").ok().stdout()).get("backups");
        return backups.get(backups.size() - 1);
    }

    @Test
    @Order(1)
    void withoutAStandbyTheBackupComesFromThePrimary() throws Exception {
        String name = pgha.run("backup").ok().stdout().strip().lines().reduce((a, b) -> b).orElseThrow();
        JsonNode b = last();
        assertEquals(name, b.get("name").asText());
        assertEquals("Completed", b.get("phase").asText());
        assertEquals("pg-1", b.get("instance").asText());
        assertTrue(Files.exists(pgha.home.resolve("backups/pg/base").resolve(name).resolve("backup.json")));
    }

    @Test
    @Order(2)
    void aPrimaryThatCannotArchiveFailsTheBackupAfterTheWalTimeout() throws Exception {
        try (Connection c = pgha.superuser("pg-1"); Statement s = c.createStatement()) {
            s.execute("ALTER SYSTEM SET archive_command = '/bin/false'");
            s.execute("SELECT pg_reload_conf()");
        }
        Launcher.Result r = pgha.run("backup");
        assertEquals(1, r.exitCode(), r.stderr());
        String lastLine = r.stderr().strip().lines().reduce((a, b) -> b).orElseThrow();
        assertTrue(lastLine.matches(".* failed: WAL segment [0-9A-F]{24} of the backup's range did not reach the archive within 15 s.*"),
                lastLine);
        assertTrue(lastLine.contains("fails to archive: last failure 0000"), "names the segment the archiver fails on: " + lastLine);
        JsonNode b = last();
        assertEquals("Failed", b.get("phase").asText());
        assertTrue(Files.notExists(pgha.home.resolve("backups/pg/base").resolve(b.get("name").asText()).resolve("backup.json")),
                "a failed backup has no backup.json, so no restore ever takes it");
    }
}
