package io.pgha.backup.service;

import io.pgha.backup.core.Compression;
import io.pgha.backup.core.RepositoryLayout;
import io.pgha.backup.core.WalFileName;
import io.pgha.backup.repository.FilesystemRepository;
import io.pgha.backup.wal.WalArchive;
import io.pgha.local.testing.TestPostgres;
import io.pgha.backup.testing.WalTokens;
import io.pgha.local.WalToken;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.restassured.RestAssured;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A real PostgreSQL 15 whose archive_command pushes to this service, as local mode's instances do. */
@QuarkusTest
@TestProfile(WalResourceTest.TempRepository.class)
class ArchiveCommandTest {
    private static final String CLUSTER = "archived";
    private static final int SWITCHES = 3;

    @ConfigProperty(name = "pgha.backup.repository-root")
    Path repositoryRoot;

    @ConfigProperty(name = "pgha.backup.home")
    Path home;

    @Test
    void switchedSegmentsLandInTheRepositoryIntact() throws Exception {
        // the form PostgresConfig.localArchiveCommand builds (the provisioner is not a dependency of this module)
        String archiveCommand = "curl -sf --max-time 60 " + WalToken.curlOption(WalTokens.file(home, CLUSTER)) + " -T %p http://127.0.0.1:"
                + RestAssured.port + "/wal/" + CLUSTER + "/%f";
        try (TestPostgres pg = TestPostgres.start(Map.of("archive_mode", "on", "archive_command", archiveCommand));
             Connection c = pg.connect(); Statement st = c.createStatement()) {
            st.execute("create table t (i int)");
            List<String> switched = new ArrayList<>();
            for (int i = 0; i < SWITCHES; i++) {
                st.execute("insert into t select generate_series(1, 1000)");
                try (ResultSet rs = st.executeQuery("select pg_walfile_name(pg_switch_wal())")) {
                    rs.next();
                    switched.add(rs.getString(1));
                }
            }
            WalArchive archive = new WalArchive(new FilesystemRepository(repositoryRoot), new RepositoryLayout(CLUSTER, Compression.ZSTD));
            for (String name : switched) {
                WalFileName file = WalFileName.parse(name);
                Path stored = repositoryRoot.resolve(archive.layout().walKey(file));
                await().atMost(Duration.ofSeconds(30)).until(() -> Files.exists(stored));
                // fetch checks the stored checksum and decompresses: it must be exactly PostgreSQL's segment
                byte[] content = archive.fetch(file).content().orElseThrow();
                assertArrayEquals(Files.readAllBytes(pg.dataDir().resolve("pg_wal").resolve(name)), content, name);
                assertTrue(Files.size(stored) < content.length, "stored compressed: " + name);
            }
        }
    }
}
