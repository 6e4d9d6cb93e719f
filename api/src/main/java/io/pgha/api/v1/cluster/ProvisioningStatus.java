package io.pgha.api.v1.cluster;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

@JsonInclude(JsonInclude.Include.NON_NULL)
public class ProvisioningStatus {
    @JsonPropertyDescription("The instances that exist, in serial order.")
    public List<Instance> instances = new ArrayList<>();

    @JsonPropertyDescription("What the provisioner is doing now, for people.")
    public String message;

    @JsonPropertyDescription("Ready instances out of the planned ones, for example 2/3 (Kubernetes only).")
    public String ready;

    @JsonPropertyDescription("Settings a restore took from its backup's source, because recovery needs them at least as"
            + " high there (max_connections, max_worker_processes, max_wal_senders, max_prepared_transactions,"
            + " max_locks_per_transaction); every instance runs with them unless spec.parameters sets them higher.")
    public Map<String, String> carriedSettings;

    public Optional<Instance> instance(String name) {
        return instances.stream().filter(i -> i.name.equals(name)).findFirst();
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public static class Instance {
        public static final String CREATED_BY_INITDB = "initdb";
        public static final String CREATED_BY_CLONE = "pg_basebackup";
        public static final String CREATED_BY_RESTORE = "restore";
        public static final String REJOINED_BY_REWIND = "pg_rewind";
        public static final String REJOINED_BY_CLONE = "reclone";

        @JsonPropertyDescription("Instance name, <cluster>-<serial>.")
        public String name;

        @JsonPropertyDescription("The serial in the name.")
        public int serial;

        @JsonPropertyDescription("How the data directory was made: initdb, pg_basebackup or restore.")
        public String createdBy;

        @JsonPropertyDescription("How the instance last rejoined after a failover: pg_rewind or reclone.")
        public String rejoinedBy;

        @JsonPropertyDescription("Timeline the instance was last started on as a standby.")
        public Integer rejoinedTimeline;

        @JsonPropertyDescription("Until when (an ISO-8601 instant) the instance is being restarted in place on purpose: "
                + "the monitor does not fail over a primary under an unexpired hold, and does once it expires.")
        public String maintenanceUntil;

        public Instance() {
        }

        public Instance(String name, int serial, String createdBy) {
            this.name = name;
            this.serial = serial;
            this.createdBy = createdBy;
        }
    }
}
