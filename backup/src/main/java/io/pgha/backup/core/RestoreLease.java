package io.pgha.backup.core;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.time.Instant;

/**
 * A restore's claim on a source prefix, stored in the repository beside what it reads (so a
 * restore run under another state directory, or another backup service, is seen too): while any
 * lease on a prefix is live, retention removes nothing there. A restore removes its lease when it
 * ends; a lease whose restore died expires at {@code expiresAt}.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record RestoreLease(String holder, String restoringCluster, String takenAt, String expiresAt) {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Longer than any restore's read of the repository is expected to take; a dead restore's lease lapses after it. */
    public static final Duration TERM = Duration.ofHours(24);

    public static RestoreLease take(String holder, String restoringCluster, Instant now) {
        return new RestoreLease(holder, restoringCluster, now.toString(), now.plus(TERM).toString());
    }

    public boolean live(Instant now) {
        return Instant.parse(expiresAt).isAfter(now);
    }

    public byte[] toJson() {
        try {
            return JSON.writeValueAsBytes(this);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * A lease as stored; one that cannot be read counts as live until {@link #TERM} after
     * {@code now}, since retention must err on the side of keeping.
     */
    public static RestoreLease fromJson(String holder, byte[] json, Instant now) {
        try {
            RestoreLease l = JSON.readValue(json, RestoreLease.class);
            Instant.parse(l.expiresAt());
            return l;
        } catch (IOException | RuntimeException e) {
            return new RestoreLease(holder, "?", now.toString(), now.plus(TERM).toString());
        }
    }
}
