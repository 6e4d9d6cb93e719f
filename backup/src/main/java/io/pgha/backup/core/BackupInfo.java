package io.pgha.backup.core;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.pgha.api.postgres.RecoveryMinimums;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A completed base backup as its backup.json in the repository describes it: everything a restore
 * needs to pick and check a backup, so that a restore under another state directory needs nothing
 * but the repository. Times are RFC 3339 UTC; LSNs are PostgreSQL's {@code X/X}; WAL names are the
 * 24-hex-digit segments of the first and last WAL the backup needs. {@code settings} holds the
 * source's values of {@link RecoveryMinimums#NAMES}, which a restore needs at least as high (empty
 * for backups taken before they were recorded).
 */
@JsonPropertyOrder({"name", "cluster", "timeline", "beginLsn", "endLsn", "beginWal", "endWal", "startedAt",
        "finishedAt", "sizeBytes", "dataBytes", "compression", "pgVersion", "settings"})
@JsonIgnoreProperties(ignoreUnknown = true)
public record BackupInfo(String name, String cluster, int timeline, String beginLsn, String endLsn, String beginWal,
                         String endWal, String startedAt, String finishedAt, long sizeBytes, long dataBytes,
                         String compression, int pgVersion, Map<String, String> settings) {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    /** Oldest first, by the time they began (names sort that way too, but a restore's source may name otherwise). */
    public static final Comparator<BackupInfo> OLDEST_FIRST = Comparator.comparing(BackupInfo::startedAt)
            .thenComparing(BackupInfo::name);

    public BackupInfo {
        settings = settings == null ? Map.of() : Map.copyOf(settings);
    }

    /** A backup without recorded settings. */
    public BackupInfo(String name, String cluster, int timeline, String beginLsn, String endLsn, String beginWal,
                      String endWal, String startedAt, String finishedAt, long sizeBytes, long dataBytes,
                      String compression, int pgVersion) {
        this(name, cluster, timeline, beginLsn, endLsn, beginWal, endWal, startedAt, finishedAt, sizeBytes, dataBytes,
                compression, pgVersion, Map.of());
    }

    public byte[] toJson() {
        try {
            return JSON.writeValueAsBytes(this);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** IllegalArgumentException naming the backup when the bytes are not a backup.json. */
    public static BackupInfo fromJson(String name, byte[] json) {
        try {
            return JSON.readValue(json, BackupInfo.class);
        } catch (IOException e) {
            throw new IllegalArgumentException("backup.json of backup " + name + " is not readable: " + e.getMessage(), e);
        }
    }

    /**
     * The earliest moment a restore from {@code completed} can reach: the end of the oldest one
     * (a restore cannot stop before its backup is consistent). Empty when there is none.
     */
    public static Optional<Instant> recoverableFrom(List<BackupInfo> completed) {
        return completed.stream().min(OLDEST_FIRST).map(b -> Instant.parse(b.finishedAt()));
    }
}
