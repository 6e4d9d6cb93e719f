package io.pgha.api.v1.cluster;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;

@JsonInclude(JsonInclude.Include.NON_NULL)
public class RouterSpec {
    public enum PoolMode {
        @JsonProperty("transaction")
        TRANSACTION,
        @JsonProperty("session")
        SESSION
    }

    public enum ReadPolicy {
        /** Autocommit reads go to healthy standbys within the lag limit, else to the primary. */
        @JsonProperty("standby")
        STANDBY,
        /** Reads are spread over the primary and the eligible standbys. */
        @JsonProperty("any")
        ANY,
        /** Everything goes to the primary. */
        @JsonProperty("primary")
        PRIMARY
    }

    @Default("true")
    @JsonPropertyDescription("Run the router for this cluster.")
    public boolean enabled = true;

    @Default("1")
    @Min(0)
    @Max(16)
    @JsonPropertyDescription("Router replicas (Kubernetes only).")
    public int replicas = 1;

    @Default("transaction")
    @JsonPropertyDescription("transaction: a server connection is lent for one transaction. session: for the whole client session.")
    public PoolMode poolMode = PoolMode.TRANSACTION;

    @Default("20")
    @Min(1)
    @Max(10000)
    @JsonPropertyDescription("Server connections per user, database and instance.")
    public int poolSize = 20;

    @Default("1000")
    @Min(1)
    @Max(100000)
    @JsonPropertyDescription("Most client connections the router accepts.")
    public int maxClientConnections = 1000;

    @Default("standby")
    @JsonPropertyDescription("Where autocommit reads go: standby, any or primary.")
    public ReadPolicy readPolicy = ReadPolicy.STANDBY;

    @Default("16777216")
    @Min(0)
    @JsonPropertyDescription("Standbys further behind than this many bytes of WAL get no reads.")
    public long maxReplicaLagBytes = 16L * 1024 * 1024;

    @Default("true")
    @JsonPropertyDescription("After a client's write commits, its reads go only to servers that have replayed it.")
    public boolean readYourWrites = true;
}
