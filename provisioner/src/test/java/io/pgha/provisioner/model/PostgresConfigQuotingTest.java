package io.pgha.provisioner.model;

import io.pgha.local.testing.TestPostgres;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.StandardOpenOption;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.Map;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/** A value with a quote and a trailing backslash, rendered by pgha, read back by a real PostgreSQL 15. */
class PostgresConfigQuotingTest {
    private static final String TRICKY = "it's C:\\dir\\";

    @Test
    void quoteAndTrailingBackslashReachTheServerIntact() throws Exception {
        try (TestPostgres pg = TestPostgres.start()) {
            Files.writeString(pg.dataDir().resolve("pgha-quoting.conf"),
                    PostgresConfig.renderConf(Map.of("log_line_prefix", TRICKY)));
            Files.writeString(pg.dataDir().resolve("postgresql.conf"), "\ninclude 'pgha-quoting.conf'\n",
                    StandardOpenOption.APPEND);
            try (Connection c = pg.connect(); Statement s = c.createStatement()) {
                try (ResultSet errors = s.executeQuery("select * from pg_file_settings where error is not null")) {
                    assertFalse(errors.next(), "postgresql.conf has errors");
                }
                try (ResultSet r = s.executeQuery("select setting from pg_file_settings where name = 'log_line_prefix'")) {
                    r.next();
                    assertEquals(TRICKY, r.getString(1));
                }
                s.execute("select pg_reload_conf()");
            }
            await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
                try (Connection c = pg.connect(); Statement s = c.createStatement();
                     ResultSet r = s.executeQuery("select setting from pg_settings where name = 'log_line_prefix' and source = 'configuration file'")) {
                    assertEquals(true, r.next());
                    assertEquals(TRICKY, r.getString(1));
                }
            });
        }
    }
}
