package io.pgha.local;

import io.pgha.local.testing.TestPostgres;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PgCtlTest {
    @Test
    void initdbStartStopWithChecksumsAndScram() throws Exception {
        try (TestPostgres pg = TestPostgres.start()) {
            assertTrue(ServerProcesses.postmaster(pg.dataDir()).isPresent());
            try (Connection c = pg.connect(); Statement s = c.createStatement()) {
                assertEquals("on", value(s, "SHOW data_checksums"));
                assertEquals("scram-sha-256", value(s, "SHOW password_encryption"));
                assertEquals(Integer.toString(pg.port()), value(s, "SHOW port"));
                // every TCP rule demands SCRAM: initdb was told so, nothing says trust
                assertEquals("0", value(s, "SELECT count(*) FROM pg_hba_file_rules WHERE auth_method = 'trust'"));
            }
            assertThrows(SQLException.class, () -> java.sql.DriverManager.getConnection(pg.jdbcUrl("postgres"),
                    TestPostgres.SUPERUSER, "wrong"));
            pg.pgCtl().stop(pg.dataDir(), PgCtl.StopMode.FAST);
            assertFalse(ServerProcesses.postmaster(pg.dataDir()).isPresent());
        }
    }

    @Test
    void missingBinariesAreOneLine() {
        PghaException e = assertThrows(PghaException.class, () -> new PgCtl(PgBinaries.locate(), OsUser.forPostgres(), null)
                .start(java.nio.file.Path.of("/nonexistent/data"), java.util.Map.of(), java.nio.file.Path.of("/tmp/x.log")));
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
        assertTrue(e.getMessage().startsWith("pg_ctl start failed"), e.getMessage());
    }

    private static String value(Statement s, String sql) throws SQLException {
        try (ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getString(1);
        }
    }
}
