package io.pgha.api.validation;

/** One thing wrong with a manifest: the field's path (for example {@code spec.instances}) and why. */
public record Violation(String field, String message) {
    @Override
    public String toString() {
        return field + ": " + message;
    }
}
