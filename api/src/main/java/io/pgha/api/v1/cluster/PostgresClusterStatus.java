package io.pgha.api.v1.cluster;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.pgha.api.v1.Condition;

import java.util.ArrayList;
import java.util.List;

/**
 * Status, written in parts: the provisioner owns phase and provisioning, the monitor owns topology
 * (after the provisioner wrote the first currentPrimary at bootstrap), the backup service owns
 * backup, and each condition type has one owner. Nobody overwrites the whole status.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class PostgresClusterStatus {
    @JsonPropertyDescription("The provisioner's summary: Pending, SettingUpPrimary, CreatingStandby, Ready, ...")
    public String phase;

    @JsonPropertyDescription("The metadata.generation the provisioner last acted on.")
    public Long observedGeneration;

    @JsonPropertyDescription("Conditions keyed by type.")
    public List<Condition> conditions = new ArrayList<>();

    @JsonPropertyDescription("The provisioner's view: which instances exist and how they were made.")
    public ProvisioningStatus provisioning;

    @JsonPropertyDescription("The monitor's view: which instance is primary and how every instance fares.")
    public TopologyStatus topology;

    @JsonPropertyDescription("The backup service's view.")
    public BackupStatus backup;
}
