package io.pgha.api.v1.backup;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

@JsonInclude(JsonInclude.Include.NON_NULL)
public class PostgresBackupStatus {
    public static final String PHASE_PENDING = "Pending";
    public static final String PHASE_RUNNING = "Running";
    public static final String PHASE_COMPLETED = "Completed";
    public static final String PHASE_FAILED = "Failed";

    @JsonPropertyDescription("Pending, Running, Completed or Failed.")
    public String phase;
    @JsonPropertyDescription("WAL position where the backup starts (its checkpoint).")
    public String beginLsn;
    @JsonPropertyDescription("WAL position a restore must replay to before the backup is consistent.")
    public String endLsn;
    @JsonPropertyDescription("Timeline the backup was taken on.")
    public Integer timeline;
    @JsonPropertyDescription("Bytes stored.")
    public Long size;
    @JsonPropertyDescription("Where in the repository the backup lives.")
    public String location;
    @JsonPropertyDescription("When the backup started (RFC 3339).")
    public String startedAt;
    @JsonPropertyDescription("When the backup finished (RFC 3339).")
    public String finishedAt;
    @JsonPropertyDescription("The instance the backup is read from.")
    public String instance;
    @JsonPropertyDescription("While it runs: bytes of the data directory read so far.")
    public Long bytesDone;
    @JsonPropertyDescription("While it runs: the estimated size of the data directory.")
    public Long bytesTotal;
    @JsonPropertyDescription("Why it failed.")
    public String error;
}
