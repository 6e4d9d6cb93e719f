package io.pgha.backup.core;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import io.pgha.api.postgres.Lsn;

import java.time.Instant;

/**
 * One complete base backup as {@code <prefix>/base/<name>/backup.json} describes it (written last,
 * so its presence means the backup and the WAL from its begin to its end are in the repository).
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record BackupInfo(String name, String cluster, int timeline, String beginLsn, String endLsn, String beginWal,
                         String endWal, Instant startedAt, Instant finishedAt, long sizeBytes, long dataBytes,
                         String compression, int pgVersion) {
    public long endPosition() {
        return Lsn.parse(endLsn).value();
    }
}
