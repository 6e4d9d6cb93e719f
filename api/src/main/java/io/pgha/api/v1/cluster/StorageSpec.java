package io.pgha.api.v1.cluster;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Pattern;

@JsonInclude(JsonInclude.Include.NON_NULL)
public class StorageSpec {
    @Default("1Gi")
    @Pattern(ResourcesSpec.QUANTITY)
    @JsonPropertyDescription("Size of each instance's volume, as a Kubernetes quantity (for example 10Gi).")
    public String size = "1Gi";

    @JsonPropertyDescription("Storage class of the volumes; absent means the cluster default (Kubernetes only).")
    public String storageClass;

    @Default("false")
    @JsonPropertyDescription("Delete the volumes when the cluster is deleted. Default: keep them.")
    public boolean deleteWithCluster = false;
}
