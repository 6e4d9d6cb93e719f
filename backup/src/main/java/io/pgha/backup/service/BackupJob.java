package io.pgha.backup.service;

import io.pgha.api.v1.backup.PostgresBackupStatus;
import io.pgha.api.v1.cluster.TopologyStatus;
import io.pgha.backup.core.BackupPhase;
import io.pgha.backup.local.ReplicationConnection;

import java.io.IOException;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.function.Consumer;

/**
 * What {@link BaseBackups} needs from a platform to take one backup: the cluster's instances as the
 * monitor reports them, connections to them, and the backup's status record. Local mode reaches the
 * instances on loopback with the state directory's secrets and keeps the record in its store; on
 * Kubernetes the instances are pods and the record is the PostgresBackup object.
 *
 * @param cluster   the cluster's name, which keys its WAL archive (the name archive_command pushes under)
 * @param name      the backup's name
 * @param instances how to reach the instances
 * @param record    where the backup's status goes
 */
public record BackupJob(String cluster, String name, Instances instances, Record record) {
    /** The instances of one cluster. */
    public interface Instances {
        /**
         * The cluster's topology as the monitor last wrote it (null before the first report);
         * IllegalStateException with the reason when the cluster is gone.
         */
        TopologyStatus topology();

        /** A superuser connection to {@code instance}, for the SQL around a backup. */
        Connection sql(String instance) throws SQLException;

        /** A replication connection to {@code instance}, as the role pg_hba.conf lets replicate. */
        ReplicationConnection replication(String instance, String applicationName, Duration connectTimeout) throws IOException;
    }

    /** The backup's status: moved only forward through the phases ({@link BackupPhase#canMoveTo}). */
    public interface Record {
        /** Moves the backup to {@code next} and changes its status; IllegalStateException when it may not move there. */
        void move(BackupPhase next, Consumer<PostgresBackupStatus> change);
    }
}
