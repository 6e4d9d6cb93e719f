package io.pgha.api.v1.cluster;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.ValidationRule;

@JsonInclude(JsonInclude.Include.NON_NULL)
public class PostgresSpec {
    @Default("15")
    @Min(15)
    @Max(15)
    @ValidationRule(value = "self == oldSelf", message = "cannot change on a running cluster")
    @JsonPropertyDescription("PostgreSQL major version. pgha supports 15. Cannot change on a running cluster.")
    public int version = 15;

    @Default("postgres:15")
    @JsonPropertyDescription("Container image of the instances (Kubernetes only).")
    public String image = "postgres:15";
}
