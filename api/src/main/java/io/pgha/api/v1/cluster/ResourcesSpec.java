package io.pgha.api.v1.cluster;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Pattern;

@JsonInclude(JsonInclude.Include.NON_NULL)
public class ResourcesSpec {
    /** A Kubernetes quantity such as 500m, 2, 512Mi or 1Gi. */
    public static final String QUANTITY = "^[0-9]+(\\.[0-9]+)?(m|k|M|G|T|Ki|Mi|Gi|Ti)?$";

    @JsonPropertyDescription("What the scheduler reserves for each instance.")
    public Amounts requests;

    @JsonPropertyDescription("The most each instance may use.")
    public Amounts limits;

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public static class Amounts {
        @Pattern(QUANTITY)
        @JsonPropertyDescription("CPU, for example 500m or 2.")
        public String cpu;

        @Pattern(QUANTITY)
        @JsonPropertyDescription("Memory, for example 512Mi or 2Gi.")
        public String memory;
    }
}
