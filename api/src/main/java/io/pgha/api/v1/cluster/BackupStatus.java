package io.pgha.api.v1.cluster;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

@JsonInclude(JsonInclude.Include.NON_NULL)
public class BackupStatus {
    @JsonPropertyDescription("The oldest point in time a restore can reach.")
    public String firstRecoverabilityPoint;
    @JsonPropertyDescription("When the last base backup finished successfully.")
    public String lastSuccessfulBackup;
    @JsonPropertyDescription("The last WAL segment archived.")
    public String lastArchivedWal;
    public String lastArchivedTime;
    public String lastFailedWal;
    public String lastFailedTime;
}
