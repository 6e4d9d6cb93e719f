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
    @JsonPropertyDescription("When the last WAL segment was archived (RFC 3339).")
    public String lastArchivedTime;
    @JsonPropertyDescription("The last WAL segment whose archiving failed.")
    public String lastFailedWal;
    @JsonPropertyDescription("When archiving last failed (RFC 3339).")
    public String lastFailedTime;
    @JsonPropertyDescription("When the next scheduled base backup is due (RFC 3339), from spec.backup.schedule.")
    public String nextScheduledBackup;
    @JsonPropertyDescription("What retention did last: when, how many backups it removed and kept, or why it removed nothing.")
    public String lastRetention;
}
