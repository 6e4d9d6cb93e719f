package io.pgha.api.validation;

import java.util.List;
import java.util.stream.Collectors;

/** A manifest that must not be applied; the message names every offending field. */
public class InvalidManifestException extends RuntimeException {
    private final transient List<Violation> violations;

    public InvalidManifestException(List<Violation> violations) {
        super(describe(violations));
        this.violations = List.copyOf(violations);
    }

    /**
     * The one line a refusal shows, the same wherever it shows: what `pgha apply` prints and the
     * message of the SpecValid condition on Kubernetes.
     */
    public static String describe(List<Violation> violations) {
        return "invalid manifest: " + violations.stream().map(Violation::toString).collect(Collectors.joining("; "));
    }

    public List<Violation> violations() {
        return violations;
    }
}
