package io.pgha.api.validation;

import io.pgha.api.v1.cluster.BackupSpec;
import io.pgha.api.v1.cluster.PostgresCluster;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

/** spec.backup's compression and archiveTimeout, and archive_timeout as a managed parameter. */
class BackupSpecValidationTest {
    private static final String HEAD = "apiVersion: pgha.io/v1\nkind: PostgresCluster\nmetadata:\n  name: pg\n";
    private static final String BACKUP = "spec:\n  backup:\n    repository:\n      filesystem:\n        path: /srv/backups\n";

    private static String rejection(String spec) {
        String message = assertThrows(InvalidManifestException.class,
                () -> ManifestParser.parseCluster(HEAD + spec)).getMessage();
        assertFalse(message.contains("\n"), "one line: " + message);
        return message;
    }

    @Test
    void defaultsAreZstdAndAMinute() {
        PostgresCluster c = ManifestParser.parseCluster(HEAD + BACKUP);
        assertEquals("zstd", c.getSpec().backup.compression);
        assertEquals(60, BackupSpec.archiveTimeoutSeconds(c.getSpec().backup));
        assertEquals(60, BackupSpec.archiveTimeoutSeconds(null), "no spec.backup: the same default");
    }

    @Test
    void archiveTimeoutTakesSecondsMinutesAndHours() {
        PostgresCluster c = ManifestParser.parseCluster(HEAD + BACKUP + "    archiveTimeout: 5m\n    compression: lz4\n");
        assertEquals(300, BackupSpec.archiveTimeoutSeconds(c.getSpec().backup));
        assertEquals("lz4", c.getSpec().backup.compression);
        assertTrue(rejection(BACKUP + "    archiveTimeout: 2d\n").contains("spec.backup.archiveTimeout: '2d' does not match"));
        assertTrue(rejection(BACKUP + "    archiveTimeout: 0s\n").contains("spec.backup.archiveTimeout"));
        assertTrue(rejection(BACKUP + "    archiveTimeout: 25h\n").contains("spec.backup.archiveTimeout: must be at most 24h, got 25h"));
    }

    @Test
    void unknownCompressionIsRefused() {
        assertTrue(rejection(BACKUP + "    compression: gzip\n").contains("spec.backup.compression: 'gzip' does not match"));
    }

    @Test
    void aRelativeRepositoryPathIsRefused() {
        assertTrue(rejection("spec:\n  backup:\n    repository:\n      filesystem:\n        path: backups\n")
                .contains("spec.backup.repository.filesystem.path: must be an absolute path, got 'backups'"));
    }

    @Test
    void archiveTimeoutIsManaged() {
        assertTrue(rejection("spec:\n  parameters:\n    archive_timeout: 10s\n")
                .contains("spec.parameters.archive_timeout: is managed by pgha"));
    }

    @Test
    void aScheduleIsFiveFieldCronAndTheWindowADuration() {
        PostgresCluster c = ManifestParser.parseCluster(HEAD + BACKUP + "    schedule: \"*/15 * * * *\"\n    retention:\n      recoveryWindow: 12h\n");
        assertEquals(java.time.Duration.ofHours(12), c.getSpec().backup.retention.window());
        assertEquals(java.time.Duration.ofDays(7), ManifestParser.parseCluster(HEAD + BACKUP).getSpec().backup.retention.window());
        String six = rejection(BACKUP + "    schedule: \"0 0 7 * * *\"\n");
        assertTrue(six.contains("spec.backup.schedule") && six.contains("no seconds"), six);
        String range = rejection(BACKUP + "    schedule: \"0 25 * * *\"\n");
        assertTrue(range.contains("spec.backup.schedule") && range.contains("hour"), range);
        assertTrue(rejection(BACKUP + "    retention:\n      recoveryWindow: 3w\n").contains("spec.backup.retention.recoveryWindow"));
    }

    @Test
    void aDrillScheduleIsOptionalFiveFieldCron() {
        assertEquals(null, ManifestParser.parseCluster(HEAD + BACKUP).getSpec().backup.verify);
        assertEquals("30 3 * * 0", ManifestParser.parseCluster(HEAD + BACKUP + "    verify: \"30 3 * * 0\"\n").getSpec().backup.verify);
        String six = rejection(BACKUP + "    verify: \"0 30 3 * * 0\"\n");
        assertTrue(six.contains("spec.backup.verify") && six.contains("no seconds"), six);
        String range = rejection(BACKUP + "    verify: \"61 * * * *\"\n");
        assertTrue(range.contains("spec.backup.verify") && range.contains("minute"), range);
    }
}
