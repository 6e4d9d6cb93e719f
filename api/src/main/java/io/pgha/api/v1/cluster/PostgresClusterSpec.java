package io.pgha.api.v1.cluster;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.ValidationRule;

import java.util.LinkedHashMap;
import java.util.Map;

/*
 * The rules below are also checked by ClusterValidator (both modes); as CEL in the CRD the API
 * server refuses such a spec before pgha sees it. CrdTest evaluates each one.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@ValidationRule(value = "!has(self.replication) || self.replication.synchronous != 'quorum' "
        + "|| self.replication.number < self.instances",
        message = "a quorum of replication.number synchronous standbys needs instances of at least number+1",
        fieldPath = ".replication.number", reason = "FieldValueInvalid")
public class PostgresClusterSpec {
    /** Bounded by the local port plan: instance k listens on base+10+k and base+40 is the first service port. */
    public static final int MAX_INSTANCES = 29;

    @Required
    @Default("3")
    @Min(1)
    @Max(MAX_INSTANCES)
    @JsonPropertyDescription("Number of PostgreSQL instances: one primary and instances-1 hot standbys.")
    public int instances = 3;

    @JsonPropertyDescription("PostgreSQL version and container image.")
    public PostgresSpec postgres = new PostgresSpec();

    @JsonPropertyDescription("Persistent storage of each instance.")
    public StorageSpec storage = new StorageSpec();

    @JsonPropertyDescription("CPU and memory of each instance.")
    public ResourcesSpec resources;

    @JsonPropertyDescription("postgresql.conf overrides. Parameters that pgha manages (port, listen_addresses, wal_level, "
            + "archive_*, primary_conninfo, synchronous_standby_names, ...) are rejected.")
    public Map<String, String> parameters = new LinkedHashMap<>();

    @JsonPropertyDescription("Streaming replication mode.")
    public ReplicationSpec replication = new ReplicationSpec();

    @JsonPropertyDescription("Who may connect to the instances.")
    public NetworkSpec network = new NetworkSpec();

    @JsonPropertyDescription("The router: the one endpoint applications connect to.")
    public RouterSpec router = new RouterSpec();

    @JsonPropertyDescription("Automatic failover by the monitor.")
    public FailoverSpec failover = new FailoverSpec();

    @JsonPropertyDescription("Base backups and continuous WAL archiving. Absent: no backups.")
    public BackupSpec backup;

    @ValidationRule(value = "self == oldSelf", message = "cannot change once the cluster exists")
    @JsonPropertyDescription("How the first primary is created: initdb (default) or recovery from a backup. Cannot change "
            + "once the cluster exists.")
    public BootstrapSpec bootstrap = new BootstrapSpec();

}
