package io.pgha.backup.service;

import io.pgha.api.v1.cluster.PostgresCluster;
import io.pgha.api.validation.ManifestParser;
import io.pgha.backup.core.Compression;
import io.pgha.backup.core.RepositoryLayout;
import io.pgha.backup.core.WalFileName;
import io.pgha.backup.repository.FilesystemRepository;
import io.pgha.backup.wal.WalArchive;
import io.pgha.local.ControlToken;
import io.pgha.local.LocalLayout;
import io.pgha.local.store.FileResourceStore;
import io.pgha.local.testing.TempDirectories;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;

/**
 * A restoring cluster must archive into an empty prefix: the check looks in the repository its own
 * spec.backup names (here a directory that already holds its source's archive under the same
 * name), not in the service's default directory, which is empty here.
 */
@QuarkusTest
@TestProfile(RestoreOwnPrefixTest.Restoring.class)
class RestoreOwnPrefixTest {
    static Path home;
    static Path shared;

    public static class Restoring implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            try {
                home = TempDirectories.deletedAtExit("pgha-restore-prefix");
                shared = home.resolve("shared-repo");
                // the source "src" archived here; the restore is also named "src" and points its own backups here
                new WalArchive(new FilesystemRepository(shared), new RepositoryLayout("src", Compression.ZSTD))
                        .push(WalFileName.parse("000000010000000000000001"), "a segment".getBytes());
                PostgresCluster c = ManifestParser.parseCluster("apiVersion: pgha.io/v1\nkind: PostgresCluster\nmetadata:\n"
                        + "  name: src\nspec:\n  backup:\n    repository:\n      filesystem:\n        path: " + shared + "\n"
                        + "  bootstrap:\n    recovery:\n      sourceCluster: src\n");
                c.getMetadata().setNamespace(LocalLayout.NAMESPACE);
                new FileResourceStore(new LocalLayout(home, LocalLayout.DEFAULT_PORT_BASE).store()).apply(c);
                return Map.of("pgha.backup.home", home.toString(),
                        "pgha.backup.repository-root", home.resolve("backups").toString());
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        }
    }

    @Test
    void aRestoreWhoseOwnRepositoryPrefixHoldsAnArchiveIsRefused() {
        given().header(ControlToken.HEADER, token().authorization()).contentType("application/json").body("{\"sourceCluster\": \"src\"}")
                .post("/restores/src").then().statusCode(422)
                .body(containsString("prefix 'src' of the repository (directory " + shared + ") already holds a WAL archive"))
                .body(containsString("a restored cluster must archive into an empty prefix"));
    }

    /** The state directory's control token, which the service made at its start. */
    static ControlToken token() {
        return ControlToken.read(new LocalLayout(home, LocalLayout.DEFAULT_PORT_BASE).controlToken());
    }
}
