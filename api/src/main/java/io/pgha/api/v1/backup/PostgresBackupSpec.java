package io.pgha.api.v1.backup;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Required;

@JsonInclude(JsonInclude.Include.NON_NULL)
public class PostgresBackupSpec {
    public enum Method {
        @JsonProperty("pg_basebackup")
        PG_BASEBACKUP
    }

    @Required
    @JsonPropertyDescription("The PostgresCluster to back up, in the same namespace.")
    public String cluster;

    @Default("pg_basebackup")
    @JsonPropertyDescription("How the backup is taken.")
    public Method method = Method.PG_BASEBACKUP;
}
