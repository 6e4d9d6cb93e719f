package io.pgha.api.validation;

import java.util.List;
import java.util.stream.Collectors;

/** A manifest that must not be applied; the message names every offending field. */
public class InvalidManifestException extends RuntimeException {
    private final transient List<Violation> violations;

    public InvalidManifestException(List<Violation> violations) {
        super("invalid manifest: " + violations.stream().map(Violation::toString).collect(Collectors.joining("; ")));
        this.violations = List.copyOf(violations);
    }

    public List<Violation> violations() {
        return violations;
    }
}
