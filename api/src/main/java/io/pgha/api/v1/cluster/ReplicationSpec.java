package io.pgha.api.v1.cluster;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Min;

@JsonInclude(JsonInclude.Include.NON_NULL)
public class ReplicationSpec {
    /** Spelled as words YAML cannot mistake for booleans (a bare off would parse as false). */
    public enum Synchronous {
        @JsonProperty("none")
        NONE,
        @JsonProperty("quorum")
        QUORUM
    }

    @Default("none")
    @JsonPropertyDescription("none: asynchronous streaming. quorum: a commit returns once `number` standbys "
            + "have flushed it (synchronous_standby_names = 'ANY number (...)').")
    public Synchronous synchronous = Synchronous.NONE;

    @Default("1")
    @Min(1)
    @JsonPropertyDescription("With quorum: how many standbys must confirm each commit. At most instances-1.")
    public int number = 1;

    @JsonIgnore
    public boolean isQuorum() {
        return synchronous == Synchronous.QUORUM;
    }
}
