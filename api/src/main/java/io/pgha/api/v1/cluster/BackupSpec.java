package io.pgha.api.v1.cluster;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;

import java.time.Duration;

@JsonInclude(JsonInclude.Include.NON_NULL)
public class BackupSpec {
    @Required
    @JsonPropertyDescription("Where base backups and WAL go: exactly one of s3 or filesystem.")
    public Repository repository;

    @Default("0 2 * * *")
    @Pattern(CRON)
    @JsonPropertyDescription("When to take base backups, as a five-field cron expression (UTC).")
    public String schedule = "0 2 * * *";

    @Pattern(CRON)
    @JsonPropertyDescription("When to run a restore drill, as a five-field cron expression (UTC): the newest completed "
            + "backup is checked against its manifest and its WAL, restored into a scratch directory up to a consistent "
            + "state, and removed again. Absent: no scheduled drills (pgha backup verify runs one on demand).")
    public String verify;

    @JsonPropertyDescription("What to keep.")
    public Retention retention = new Retention();

    @Default(DEFAULT_COMPRESSION)
    @Pattern("^(zstd|lz4|none)$")
    @JsonPropertyDescription("How WAL and base backups are compressed: zstd, lz4 or none. Objects written "
            + "with another setting stay readable.")
    public String compression = DEFAULT_COMPRESSION;

    @Default(DEFAULT_ARCHIVE_TIMEOUT)
    @Pattern(DURATION)
    // a bounded length keeps the API server's cost estimate of the CEL rule small
    @Size(max = 8)
    @ValidationRule(value = "!self.matches('" + DURATION + "') || duration(self) <= duration('24h')",
            message = "must be at most 24h")
    @JsonPropertyDescription("PostgreSQL's archive_timeout: the longest a commit waits in an unfinished WAL segment "
            + "before the segment is switched and archived, so at most this much of committed work is lost "
            + "with the primary when little is written. A duration such as 30s, 5m or 1h (at most 24h).")
    public String archiveTimeout = DEFAULT_ARCHIVE_TIMEOUT;

    /** Five whitespace-separated fields; CronSchedule checks each field's content. */
    public static final String CRON = "^(\\S+\\s+){4}\\S+$";
    public static final String DEFAULT_COMPRESSION = "zstd";
    public static final String DEFAULT_ARCHIVE_TIMEOUT = "60s";
    /** Whole seconds, minutes or hours. */
    public static final String DURATION = "^[1-9][0-9]{0,5}(s|m|h)$";

    /**
     * archive_timeout in seconds for a cluster whose spec.backup is {@code backup} (null: the
     * default); IllegalArgumentException when the value is not a duration.
     */
    public static long archiveTimeoutSeconds(BackupSpec backup) {
        String value = backup == null || backup.archiveTimeout == null ? DEFAULT_ARCHIVE_TIMEOUT : backup.archiveTimeout;
        if (!value.matches(DURATION)) {
            throw new IllegalArgumentException("not a duration (such as 30s, 5m, 1h): " + value);
        }
        long n = Long.parseLong(value.substring(0, value.length() - 1));
        return switch (value.charAt(value.length() - 1)) {
            case 'h' -> n * 3600;
            case 'm' -> n * 60;
            default -> n;
        };
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    @ValidationRule(value = "has(self.s3) != has(self.filesystem)", message = "set exactly one of s3 and filesystem")
    public static class Repository {
        @JsonPropertyDescription("S3-compatible object storage.")
        public S3 s3;

        @JsonPropertyDescription("A directory (a PVC on Kubernetes).")
        public Filesystem filesystem;
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public static class S3 {
        @Required
        @JsonPropertyDescription("Bucket name.")
        public String bucket;

        @JsonPropertyDescription("Key prefix inside the bucket; default: the cluster name.")
        public String prefix;

        @JsonPropertyDescription("Endpoint URL of an S3-compatible service; absent: AWS.")
        public String endpoint;

        @Default("us-east-1")
        @JsonPropertyDescription("Region.")
        public String region = "us-east-1";

        @JsonPropertyDescription("Secret (Kubernetes) or file (local) holding the access key and secret key.")
        public String credentialsSecret;
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public static class Filesystem {
        @Required
        @ValidationRule(value = "self.startsWith('/')", message = "must be an absolute path")
        @JsonPropertyDescription("Directory of the repository, an absolute path.")
        public String path;
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public static class Retention {
        @Default("7")
        @Min(1)
        @Max(3650)
        @JsonPropertyDescription("Days back in time that point-in-time recovery must reach.")
        public int recoveryWindowDays = 7;

        @Pattern(WINDOW)
        @JsonPropertyDescription("The recovery window as a duration (90s, 30m, 12h, 7d); when set it is used instead of "
                + "recoveryWindowDays (short windows are for drills and tests).")
        public String recoveryWindow;

        @Default("1")
        @Min(1)
        @Max(1000)
        @JsonPropertyDescription("Base backups kept at least, whatever their age.")
        public int minBackups = 1;

        /** Seconds, minutes, hours or days. */
        public static final String WINDOW = "^[1-9][0-9]{0,5}(s|m|h|d)$";

        /** The window this retention keeps; IllegalArgumentException when recoveryWindow is not a duration. */
        public Duration window() {
            if (recoveryWindow == null) {
                return Duration.ofDays(recoveryWindowDays);
            }
            if (!recoveryWindow.matches(WINDOW)) {
                throw new IllegalArgumentException("spec.backup.retention.recoveryWindow is not a duration (such as 30m, 12h, 7d): "
                        + recoveryWindow);
            }
            long n = Long.parseLong(recoveryWindow.substring(0, recoveryWindow.length() - 1));
            return switch (recoveryWindow.charAt(recoveryWindow.length() - 1)) {
                case 'd' -> Duration.ofDays(n);
                case 'h' -> Duration.ofHours(n);
                case 'm' -> Duration.ofMinutes(n);
                default -> Duration.ofSeconds(n);
            };
        }
    }
}
