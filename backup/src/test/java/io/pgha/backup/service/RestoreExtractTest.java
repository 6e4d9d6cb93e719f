package io.pgha.backup.service;

import io.pgha.backup.core.BackupInfo;
import io.pgha.backup.core.Compression;
import io.pgha.backup.core.RepositoryLayout;
import io.pgha.backup.repository.Checksums;
import io.pgha.backup.repository.FilesystemRepository;
import io.pgha.local.ControlToken;
import io.pgha.local.LocalLayout;
import io.pgha.local.StateFiles;
import io.pgha.local.testing.TempDirectories;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32C;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The backup service extracts a restore's base backup into the new primary's data directory
 * itself (local mode), answering with progress lines and then how it went: a real tar made with
 * tar(1), stored as pgha stores it (with its checksum), extracted by tar run as the PostgreSQL OS user.
 */
@QuarkusTest
@TestProfile(RestoreExtractTest.WithABackup.class)
class RestoreExtractTest {
    static Path home;
    static final String BACKUP = "src-20261205t010000z";
    static final String MEMBER = "PG_VERSION";

    public static class WithABackup implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            try {
                // the PostgreSQL OS user (tar runs as it) must reach the data directories under it
                home = TempDirectories.deletedAtExit("pgha-extract", PosixFilePermissions.asFileAttribute(StateFiles.READABLE_DIR));
                // pgha up makes the logs directory, where tar's output goes
                Files.createDirectories(home.resolve("logs"));
                Path backups = home.resolve("backups");
                store(new FilesystemRepository(backups), tarOf(home.resolve("made")));
                return Map.of("pgha.backup.home", home.toString(), "pgha.backup.repository-root", backups.toString());
            } catch (IOException | InterruptedException e) {
                throw new IllegalStateException(e);
            }
        }
    }

    /** The files of one small data directory. */
    static final Map<String, byte[]> FILES = Map.of(MEMBER, "15\n".getBytes(StandardCharsets.US_ASCII),
            // big enough to span many reads, small enough for a test
            "relation", "a page of rows ".repeat(200_000).getBytes(StandardCharsets.US_ASCII));

    /** A tar of {@link #FILES}, made by tar(1) with member names as the server writes them (no "./"). */
    static byte[] tarOf(Path dir) throws IOException, InterruptedException {
        Files.createDirectories(dir.resolve("data"));
        for (Map.Entry<String, byte[]> f : FILES.entrySet()) {
            Files.write(dir.resolve("data").resolve(f.getKey()), f.getValue());
        }
        Path tar = dir.resolve("base.tar");
        List<String> command = new java.util.ArrayList<>(List.of("tar", "-cf", tar.toString(), "-C", dir.resolve("data").toString()));
        command.addAll(FILES.keySet());
        Process p = new ProcessBuilder(command).inheritIO().start();
        assertEquals(0, p.waitFor());
        return Files.readAllBytes(tar);
    }

    /**
     * A backup_manifest of {@code files} as PostgreSQL writes one: CRC-32C of each file (its
     * four bytes low first), and the SHA-256 of everything before the last line.
     */
    static byte[] manifest(Map<String, byte[]> files) {
        StringBuilder m = new StringBuilder("{ \"PostgreSQL-Backup-Manifest-Version\": 1,\n\"Files\": [\n");
        String separator = "";
        for (Map.Entry<String, byte[]> f : files.entrySet()) {
            CRC32C crc = new CRC32C();
            crc.update(f.getValue());
            int v = (int) crc.getValue();
            m.append(separator).append("{ \"Path\": \"").append(f.getKey()).append("\", \"Size\": ").append(f.getValue().length)
                    .append(", \"Last-Modified\": \"2026-12-05 01:00:00 GMT\", \"Checksum-Algorithm\": \"CRC32C\", \"Checksum\": \"")
                    .append(HexFormat.of().formatHex(new byte[]{(byte) v, (byte) (v >>> 8), (byte) (v >>> 16), (byte) (v >>> 24)}))
                    .append("\" }");
            separator = ",\n";
        }
        m.append(" ],\n\"WAL-Ranges\": [\n{ \"Timeline\": 1, \"Start-LSN\": \"0/2000028\", \"End-LSN\": \"0/2000100\" }\n],\n");
        byte[] covered = m.toString().getBytes(StandardCharsets.UTF_8);
        m.append("\"Manifest-Checksum\": \"").append(Checksums.sha256(covered)).append("\"}\n");
        return m.toString().getBytes(StandardCharsets.UTF_8);
    }

    static void store(FilesystemRepository repository, byte[] tar) throws IOException {
        // uncompressed, so that a flipped byte is found by the repository's checksum, not by a decoder first
        RepositoryLayout layout = new RepositoryLayout("src", Compression.NONE);
        BackupInfo info = new BackupInfo(BACKUP, "src", 1, "0/2000028", "0/2000100", "000000010000000000000002",
                "000000010000000000000002", "2026-12-05T01:00:00Z", "2026-12-05T01:00:05Z", 1, tar.length, "none", 15);
        repository.putIfAbsent(layout.baseTarKey(BACKUP), tar);
        repository.putIfAbsent(layout.manifestKey(BACKUP), manifest(FILES));
        repository.putIfAbsent(layout.backupInfoKey(BACKUP), info.toJson());
    }

    private static String control() {
        return ControlToken.read(new LocalLayout(home, LocalLayout.DEFAULT_PORT_BASE).controlToken()).authorization();
    }

    private static void plan(String cluster) {
        given().header(ControlToken.HEADER, control()).contentType("application/json")
                .body("{\"sourceCluster\": \"src\", \"backup\": \"" + BACKUP + "\"}")
                .post("/restores/" + cluster).then().statusCode(200);
    }

    private static List<String> extract(String cluster, String instance) {
        String body = given().header(ControlToken.HEADER, control()).post("/restores/" + cluster + "/base/" + instance)
                .then().statusCode(200).extract().asString();
        return body.lines().toList();
    }

    @Test
    void theBaseBackupIsExtractedIntoTheInstancesDataDirectoryAndTheLastLineSaysSo() throws Exception {
        plan("dst");
        List<String> lines = extract("dst", "dst-1");
        assertTrue(lines.get(lines.size() - 1).startsWith("done "), lines.toString());
        Path data = new LocalLayout(home, LocalLayout.DEFAULT_PORT_BASE).dataDir("dst-1");
        assertEquals("15\n", Files.readString(data.resolve(MEMBER)));
        assertEquals(3_000_000, Files.size(data.resolve("relation")));
    }

    @Test
    void aFileThatDiffersFromTheManifestEndsTheExtractionNamingIt() throws Exception {
        FilesystemRepository repository = new FilesystemRepository(home.resolve("backups"));
        String key = new RepositoryLayout("src", Compression.NONE).manifestKey(BACKUP);
        byte[] original = repository.get(key).orElseThrow();
        Map<String, byte[]> other = new java.util.HashMap<>(FILES);
        other.put(MEMBER, "16\n".getBytes(StandardCharsets.US_ASCII));
        repository.delete(key);
        repository.putIfAbsent(key, manifest(other));
        try {
            // the plan reads the manifest (RestoreResource#manifests)
            plan("odd");
            List<String> lines = extract("odd", "odd-1");
            assertTrue(lines.get(lines.size() - 1).startsWith("failed: it does not match its backup_manifest: \"" + MEMBER
                    + "\" has CRC32C checksum "), lines.toString());
        } finally {
            repository.delete(key);
            repository.putIfAbsent(key, original);
        }
    }

    @Test
    void aCorruptBaseBackupEndsWithTheReasonAndOnlyTheRestoringClustersInstancesAreExtracted() throws Exception {
        plan("bad");
        given().header(ControlToken.HEADER, control()).post("/restores/bad/base/other-1").then().statusCode(400)
                .body(containsString("other-1 is not an instance of cluster bad"));
        Path stored = home.resolve("backups").resolve(new RepositoryLayout("src", Compression.NONE).baseTarKey(BACKUP));
        byte[] original = Files.readAllBytes(stored);
        // a byte of the relation's rows: tar itself would take it
        int at = original.length / 2;
        try (RandomAccessFile f = new RandomAccessFile(stored.toFile(), "rw")) {
            f.seek(at);
            f.write(original[at] ^ 1);
        }
        try {
            List<String> lines = extract("bad", "bad-1");
            String last = lines.get(lines.size() - 1);
            assertTrue(last.startsWith("failed: ") && last.contains("checksum mismatch in repository object src/base/" + BACKUP),
                    lines.toString());
        } finally {
            Files.write(stored, original);
        }
    }
}
