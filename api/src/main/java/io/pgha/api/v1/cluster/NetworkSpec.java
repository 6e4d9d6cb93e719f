package io.pgha.api.v1.cluster;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Size;

import java.util.ArrayList;
import java.util.List;

@JsonInclude(JsonInclude.Include.NON_NULL)
public class NetworkSpec {
    /** The private address ranges pod networks are carved from (RFC 1918 and IPv6 unique local addresses). */
    public static final List<String> PRIVATE_RANGES = List.of("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7");

    @Size(min = 1, max = 64)
    @JsonPropertyDescription("Kubernetes only: the address ranges (CIDRs) pg_hba.conf accepts connections from, always "
            + "with SCRAM-SHA-256. Default: the private ranges 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16 and fc00::/7. "
            + "Narrow it to your pod network. The cluster's NetworkPolicy further admits only pgha's own pods. "
            + "Local mode listens on loopback only and ignores it.")
    public List<String> allowedCidrs = new ArrayList<>(PRIVATE_RANGES);
}
