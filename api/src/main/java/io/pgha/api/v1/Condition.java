package io.pgha.api.v1;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Required;

import java.util.Objects;

/**
 * One observation about a resource, Kubernetes style. Each condition type has exactly one owning
 * service (see {@link ConditionTypes}); nobody else writes it.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class Condition {
    public static final String TRUE = "True";
    public static final String FALSE = "False";
    public static final String UNKNOWN = "Unknown";

    @Required
    @JsonPropertyDescription("Condition type, for example Ready or FailingOver.")
    public String type;

    @Required
    @JsonPropertyDescription("True, False or Unknown.")
    public String status;

    @JsonPropertyDescription("A CamelCase word that says why, for machines.")
    public String reason;

    @JsonPropertyDescription("A sentence that says why, for people.")
    public String message;

    @JsonPropertyDescription("When status last changed (RFC 3339).")
    public String lastTransitionTime;

    public Condition() {
    }

    public Condition(String type, String status, String reason, String message) {
        this.type = type;
        this.status = status;
        this.reason = reason;
        this.message = message;
    }

    /** Same observation, ignoring when it was made. */
    public boolean sameAs(Condition other) {
        return other != null && Objects.equals(type, other.type) && Objects.equals(status, other.status)
                && Objects.equals(reason, other.reason) && Objects.equals(message, other.message);
    }

    @JsonIgnore
    public boolean isTrue() {
        return TRUE.equals(status);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Condition c && sameAs(c) && Objects.equals(lastTransitionTime, c.lastTransitionTime);
    }

    @Override
    public int hashCode() {
        return Objects.hash(type, status, reason, message, lastTransitionTime);
    }

    @Override
    public String toString() {
        return type + "=" + status + " (" + reason + ": " + message + ")";
    }
}
