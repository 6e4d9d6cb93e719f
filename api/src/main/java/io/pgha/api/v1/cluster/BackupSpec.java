package io.pgha.api.v1.cluster;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;

@JsonInclude(JsonInclude.Include.NON_NULL)
public class BackupSpec {
    @Required
    @JsonPropertyDescription("Where base backups and WAL go: exactly one of s3 or filesystem.")
    public Repository repository;

    @Default("0 2 * * *")
    @Pattern("^(\\S+\\s+){4}\\S+$")
    @JsonPropertyDescription("When to take base backups, as a five-field cron expression (UTC).")
    public String schedule = "0 2 * * *";

    @JsonPropertyDescription("What to keep.")
    public Retention retention = new Retention();

    @JsonInclude(JsonInclude.Include.NON_NULL)
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
        @JsonPropertyDescription("Directory of the repository.")
        public String path;
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public static class Retention {
        @Default("7")
        @Min(1)
        @Max(3650)
        @JsonPropertyDescription("Days back in time that point-in-time recovery must reach.")
        public int recoveryWindowDays = 7;

        @Default("1")
        @Min(1)
        @Max(1000)
        @JsonPropertyDescription("Base backups kept at least, whatever their age.")
        public int minBackups = 1;
    }
}
