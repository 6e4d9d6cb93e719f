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
    public String beginLsn;
    public String endLsn;
    public Integer timeline;
    @JsonPropertyDescription("Bytes stored.")
    public Long size;
    @JsonPropertyDescription("Where in the repository the backup lives.")
    public String location;
    public String startedAt;
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
