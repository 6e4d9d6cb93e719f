package io.pgha.api.v1.cluster;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

@JsonInclude(JsonInclude.Include.NON_NULL)
public class TopologyStatus {
    public static final String ROLE_PRIMARY = "primary";
    public static final String ROLE_STANDBY = "standby";

    @JsonPropertyDescription("The instance that takes writes.")
    public String currentPrimary;

    @JsonPropertyDescription("During a failover or switchover: the instance being promoted.")
    public String targetPrimary;

    @JsonPropertyDescription("The primary's timeline.")
    public Integer timeline;

    @JsonPropertyDescription("Instances that must never take writes again until they rejoin as standbys.")
    public List<String> fenced = new ArrayList<>();

    @JsonPropertyDescription("What the last check of each instance saw.")
    public List<Instance> instances = new ArrayList<>();

    @JsonPropertyDescription("Failovers and switchovers, oldest first.")
    public List<Promotion> history = new ArrayList<>();

    @JsonPropertyDescription("The monitor lease term under which this topology was last written: the lease holder and the "
            + "lease's transition counter, which goes up at every acquisition. A monitor whose term is older may no longer write it.")
    public LeaseTerm term;

    public Optional<Instance> instance(String name) {
        return instances.stream().filter(i -> i.name.equals(name)).findFirst();
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public static class Instance {
        @JsonPropertyDescription("Instance name.")
        public String name;
        @JsonPropertyDescription("primary or standby.")
        public String role;
        @JsonPropertyDescription("Whether the last check reached the server and found it working.")
        public Boolean healthy;
        @JsonPropertyDescription("The instance's timeline.")
        public Integer timeline;
        @JsonPropertyDescription("Primary: current WAL position. Standby: last received.")
        public String receiveLsn;
        @JsonPropertyDescription("Standby: the last WAL position replayed.")
        public String replayLsn;
        @JsonPropertyDescription("Bytes of WAL this standby has not replayed.")
        public Long lagBytes;
        @JsonPropertyDescription("Seconds since the last transaction this standby replayed was committed on the primary.")
        public Double lagSeconds;
        @JsonPropertyDescription("async, quorum, sync or potential, as pg_stat_replication says.")
        public String syncState;
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public static class Promotion {
        @JsonPropertyDescription("failover or switchover.")
        public String kind;
        @JsonPropertyDescription("The former primary.")
        public String from;
        @JsonPropertyDescription("The promoted instance.")
        public String to;
        @JsonPropertyDescription("The timeline the promoted instance started.")
        public Integer timeline;
        @JsonPropertyDescription("When the monitor began (RFC 3339).")
        public String startedAt;
        @JsonPropertyDescription("When the new primary was recorded (RFC 3339).")
        public String finishedAt;
        @JsonPropertyDescription("Why, for people.")
        public String reason;
        @JsonPropertyDescription("Failover: bytes of WAL the old primary was last seen to have beyond what the promoted standby "
                + "had received (at least this much was lost; the old primary may have written more after the monitor's last "
                + "look). Switchover: 0.")
        public Long lostBytes;
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public static class LeaseTerm {
        @JsonPropertyDescription("The monitor replica that held the lease.")
        public String holder;
        @JsonPropertyDescription("The lease's transition counter at that acquisition.")
        public Long counter;
    }
}
