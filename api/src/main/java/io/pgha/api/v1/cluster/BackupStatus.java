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
    @JsonPropertyDescription("The last backup a restore drill verified and restored to a consistent state.")
    public String lastVerifiedBackup;
    @JsonPropertyDescription("When that drill finished (RFC 3339).")
    public String lastVerifiedAt;
    @JsonPropertyDescription("What the last failed restore drill found: the backup and the file or WAL segment at fault.")
    public String lastDrillFailure;
    @JsonPropertyDescription("When a restore drill last failed (RFC 3339).")
    public String lastDrillFailureAt;
    @JsonPropertyDescription("When the next scheduled restore drill is due (RFC 3339), from spec.backup.verify.")
    public String nextScheduledDrill;
}
