package io.pgha.backup.core;

import java.util.Collection;
import java.util.Optional;

/** What archive_command's push and restore_command's fetch answer; pure so both stay testable without a repository. */
public final class WalDecisions {
    private WalDecisions() {
    }

    public enum Push { STORE, ALREADY_STORED, CONFLICT }

    /**
     * WAL is immutable: a push of content already stored under that name succeeds (a retried
     * archive_command, or a standby with archive_mode=always pushing what the primary pushed);
     * other content under the same name is refused, never overwritten.
     *
     * @param storedContentSha256 the content checksum of the stored file, empty when none is stored
     */
    public static Push push(Optional<String> storedContentSha256, String pushedContentSha256) {
        if (storedContentSha256.isEmpty()) {
            return Push.STORE;
        }
        return storedContentSha256.get().equals(pushedContentSha256) ? Push.ALREADY_STORED : Push.CONFLICT;
    }

    /** A fetch of a file the repository does not hold. */
    public sealed interface Missing {
    }

    /** PostgreSQL may end recovery here: the archive really ends before this file. */
    public record NotFound() implements Missing {
    }

    /** A hole in the archive: recovery must stop with this error, never promote early. */
    public record Hole(String message) implements Missing {
    }

    /**
     * restore_command may say "no such file" only for a segment beyond the newest stored on its
     * timeline. History files and partial segments are asked for speculatively by PostgreSQL
     * (the next timeline's history), so their absence is always an honest "not found".
     */
    public static Missing missing(WalFileName requested, Collection<WalFileName> storedOnTimeline) {
        if (requested.kind() != WalFileName.Kind.SEGMENT) {
            return new NotFound();
        }
        Optional<WalFileName> newest = storedOnTimeline.stream()
                .filter(f -> f.kind() == WalFileName.Kind.SEGMENT && f.timeline() == requested.timeline())
                .max(WalFileName::compareTo);
        if (newest.isEmpty() || requested.compareTo(newest.get()) > 0) {
            return new NotFound();
        }
        return new Hole("WAL segment " + requested.name() + " is missing from the archive, which holds segments up to "
                + newest.get().name() + " on timeline " + requested.timelineHex());
    }
}
