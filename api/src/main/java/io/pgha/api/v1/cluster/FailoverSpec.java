package io.pgha.api.v1.cluster;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;

@JsonInclude(JsonInclude.Include.NON_NULL)
public class FailoverSpec {
    @Default("true")
    @JsonPropertyDescription("Promote a standby automatically when the primary fails.")
    public boolean enabled = true;

    @Default("3")
    @Min(1)
    @Max(100)
    @JsonPropertyDescription("Consecutive failed checks after which the primary is declared failed.")
    public int failureThreshold = 3;

    @Default("1000")
    @Min(100)
    @Max(60000)
    @JsonPropertyDescription("Milliseconds between two checks of an instance.")
    public int checkIntervalMillis = 1000;

    @Min(0)
    @JsonPropertyDescription("Asynchronous mode only: veto an automatic failover when the best standby is more "
            + "than this many bytes behind the last known primary position. Absent: no bound.")
    public Long maxDataLossBytes;
}
