package io.pgha.api.validation;

import io.pgha.api.v1.cluster.PostgresCluster;
import io.pgha.api.v1.cluster.ReplicationSpec;
import io.pgha.api.v1.cluster.RouterSpec;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ManifestParserTest {
    private static final String HEAD = "apiVersion: pgha.io/v1\nkind: PostgresCluster\nmetadata:\n  name: pg\n";

    private static String rejection(String spec) {
        return assertThrows(InvalidManifestException.class, () -> ManifestParser.parseCluster(HEAD + spec)).getMessage();
    }

    @Test
    void minimalManifestGetsEveryDefault() {
        PostgresCluster c = ManifestParser.parseCluster(HEAD + "spec:\n  instances: 2\n  replication:\n");
        assertEquals(2, c.getSpec().instances);
        assertEquals(ReplicationSpec.Synchronous.NONE, c.getSpec().replication.synchronous);
        assertEquals(RouterSpec.PoolMode.TRANSACTION, c.getSpec().router.poolMode);
        assertEquals(20, c.getSpec().router.poolSize);
        assertTrue(c.getSpec().failover.enabled);
        assertEquals(3, c.getSpec().failover.failureThreshold);
        assertEquals("app", c.getSpec().bootstrap.effectiveInitdb().database);
        assertEquals(null, c.getSpec().backup);
    }

    @Test
    void examplesParse() throws IOException {
        PostgresCluster async = ManifestParser.parseCluster(Files.readString(Path.of("../deploy/examples/cluster.yaml")));
        assertEquals(3, async.getSpec().instances);
        assertFalse(async.getSpec().replication.isQuorum());
        PostgresCluster sync = ManifestParser.parseCluster(Files.readString(Path.of("../deploy/examples/sync-quorum.yaml")));
        assertTrue(sync.getSpec().replication.isQuorum());
        assertEquals(1, sync.getSpec().replication.number);
        PostgresCluster backedUp = ManifestParser.parseCluster(Files.readString(Path.of("../deploy/examples/backup.yaml")));
        assertEquals("/var/lib/pgha/backups", backedUp.getSpec().backup.repository.filesystem.path);
        PostgresCluster restored = ManifestParser.parseCluster(Files.readString(Path.of("../deploy/examples/restore.yaml")));
        assertEquals("pg", restored.getSpec().bootstrap.recovery.sourceCluster);
        assertEquals(backedUp.getSpec().backup.repository.filesystem.path,
                restored.getSpec().bootstrap.recovery.repository.filesystem.path);
        assertEquals("2026-12-04T22:30:00Z", restored.getSpec().bootstrap.recovery.target.time);
    }

    @Test
    void zeroInstancesNamesTheField() {
        assertTrue(rejection("spec:\n  instances: 0\n").contains("spec.instances: must be at least 1, got 0"));
    }

    @Test
    void tooManyInstancesNamesTheField() {
        assertTrue(rejection("spec:\n  instances: 30\n").contains("spec.instances: must be at most 29"));
    }

    @Test
    void wrongTypeNamesTheField() {
        String message = rejection("spec:\n  instances: three\n");
        assertTrue(message.contains("spec.instances"), message);
        assertTrue(message.contains("integer"), message);
    }

    @Test
    void synchronousOffIsNotABoolean() {
        // YAML reads a bare off as false; the enum has no such value, so the field is named
        String message = rejection("spec:\n  replication:\n    synchronous: off\n");
        assertTrue(message.contains("spec.replication.synchronous"), message);
        assertTrue(message.contains("none, quorum"), message);
    }

    @Test
    void quorumLargerThanTheStandbysNamesTheField() {
        String message = rejection("spec:\n  instances: 2\n  replication:\n    synchronous: quorum\n    number: 2\n");
        assertTrue(message.contains("spec.replication.number"), message);
    }

    @Test
    void managedParameterIsRejected() {
        String message = rejection("spec:\n  parameters:\n    wal_level: minimal\n");
        assertTrue(message.contains("spec.parameters.wal_level: is managed by pgha"), message);
    }

    @Test
    void unknownParameterIsRejected() {
        String message = rejection("spec:\n  parameters:\n    shared_bufers: 1GB\n");
        assertTrue(message.contains("spec.parameters.shared_bufers: is not a PostgreSQL 15 parameter"), message);
    }

    @Test
    void parameterValueSyntaxIsChecked() {
        assertTrue(rejection("spec:\n  parameters:\n    hot_standby_feedback: maybe\n")
                .contains("spec.parameters.hot_standby_feedback: expects on or off"));
        assertTrue(rejection("spec:\n  parameters:\n    work_mem: lots\n")
                .contains("spec.parameters.work_mem: expects a number"));
    }

    @Test
    void unknownFieldIsRejected() {
        assertTrue(rejection("spec:\n  instance: 3\n").contains("spec.instance: unknown field 'instance'"));
    }

    @Test
    void unsafeSynchronousCommitInQuorumModeIsRejected() {
        String message = rejection("spec:\n  replication:\n    synchronous: quorum\n  parameters:\n    synchronous_commit: local\n");
        assertTrue(message.contains("spec.parameters.synchronous_commit"), message);
    }

    @Test
    void badNameIsRejected() {
        String message = assertThrows(InvalidManifestException.class, () -> ManifestParser.parseCluster(
                "apiVersion: pgha.io/v1\nkind: PostgresCluster\nmetadata:\n  name: My_DB\nspec: {}\n")).getMessage();
        assertTrue(message.contains("metadata.name"), message);
    }

    @Test
    void wrongKindIsRejected() {
        String message = assertThrows(InvalidManifestException.class, () -> ManifestParser.parseCluster(
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n")).getMessage();
        assertTrue(message.contains("kind"), message);
    }

    @Test
    void recoveryTargetMustBeOneThing() {
        String message = rejection("spec:\n  bootstrap:\n    recovery:\n      sourceCluster: old\n"
                + "      target:\n        lsn: 0/3000000\n        xid: 1234\n");
        assertTrue(message.contains("spec.bootstrap.recovery.target"), message);
    }

    @Test
    void restorePointAndImmediateAreTargetsToo() {
        String both = rejection("spec:\n  bootstrap:\n    recovery:\n      sourceCluster: old\n"
                + "      target:\n        name: before-migration\n        immediate: true\n");
        assertTrue(both.contains("spec.bootstrap.recovery.target: set at most one of"), both);
        String notTrue = rejection("spec:\n  bootstrap:\n    recovery:\n      sourceCluster: old\n"
                + "      target:\n        immediate: false\n");
        assertTrue(notTrue.contains("spec.bootstrap.recovery.target.immediate"), notTrue);
        String longName = rejection("spec:\n  bootstrap:\n    recovery:\n      sourceCluster: old\n"
                + "      target:\n        name: " + "x".repeat(64) + "\n");
        assertTrue(longName.contains("spec.bootstrap.recovery.target.name"), longName);
        String xid = rejection("spec:\n  bootstrap:\n    recovery:\n      sourceCluster: old\n"
                + "      target:\n        xid: 2\n");
        assertTrue(xid.contains("spec.bootstrap.recovery.target.xid"), xid);
        PostgresCluster ok = ManifestParser.parseCluster(HEAD + "spec:\n  bootstrap:\n    recovery:\n      sourceCluster: old\n"
                + "      repository:\n        filesystem:\n          path: /var/backups/pgha\n"
                + "      target:\n        name: before-migration\n");
        assertEquals("before-migration", ok.getSpec().bootstrap.recovery.target.name);
        assertEquals("/var/backups/pgha", ok.getSpec().bootstrap.recovery.repository.filesystem.path);
    }

    @Test
    void recoveryRepositoryIsOneKind() {
        String message = rejection("spec:\n  bootstrap:\n    recovery:\n      sourceCluster: old\n"
                + "      repository: {}\n");
        assertTrue(message.contains("spec.bootstrap.recovery.repository: set exactly one of s3 and filesystem"), message);
    }

    @Test
    void immutableFieldsCannotChange() {
        PostgresCluster a = ManifestParser.parseCluster(HEAD + "spec: {}\n");
        PostgresCluster b = ManifestParser.parseCluster(HEAD + "spec:\n  bootstrap:\n    initdb:\n      database: other\n");
        assertTrue(ClusterValidator.validateUpdate(a, b).toString().contains("spec.bootstrap"));
        assertTrue(ClusterValidator.validateUpdate(a, a).isEmpty());
    }
}
