package io.pgha.backup.core;

import io.pgha.api.postgres.Lsn;

import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What a restore drill's server says about its recovery, read from its log (written with
 * {@code lc_messages=C} and an empty {@code log_line_prefix}, so each line starts with its
 * severity): the WAL segments restore_command brought in, where PostgreSQL 15 reached a
 * consistent state, whether it stopped there as {@code recovery_target = 'immediate'} asks, and
 * the FATAL that ended it otherwise. Fed line by line as the log grows.
 */
public final class RecoveryLog {
    private static final Pattern RESTORED = Pattern.compile("^LOG:\\s+restored log file \"([0-9A-F]{24})\" from archive");
    private static final Pattern CONSISTENT = Pattern.compile("^LOG:\\s+consistent recovery state reached at ([0-9A-F]+/[0-9A-F]+)");
    private static final String STOPPED_AT_TARGET = "LOG:  recovery stopping after reaching consistency";
    private static final Pattern FATAL = Pattern.compile("^(FATAL|PANIC):\\s+(.*)$");
    /** PostgreSQL's complaints about WAL it read (xlogreader.c), at LOG level before the FATAL they cause. */
    private static final List<String> WAL_COMPLAINTS = List.of("invalid ", "incorrect ", "unexpected pageaddr",
            "contrecord", "out-of-sequence", "record with ", "missing ");
    /** A line of PostgreSQL's own begins with its severity; restore_command's output (the backup service's reason) does not. */
    private static final Pattern SEVERITY = Pattern.compile("^(DEBUG\\d?|LOG|INFO|NOTICE|WARNING|ERROR|FATAL|PANIC|DETAIL|HINT|CONTEXT|STATEMENT):");

    private String lastRestored;
    private Lsn consistentAt;
    private boolean stoppedAtTarget;
    private String fatal;
    private String walComplaint;
    private String commandOutput;

    /** Where a drill's recovery stands. */
    public sealed interface Verdict {
    }

    /** Still replaying; {@code lastRestored} is the newest segment fetched so far, if any. */
    public record Replaying(Optional<String> lastRestored) implements Verdict {
    }

    /** Consistent at {@code at} (at or after the backup's end) and stopped there. */
    public record Consistent(Lsn at) implements Verdict {
    }

    /** Recovery ended without a consistent state; the message names the segment it was in and why. */
    public record Failed(String message) implements Verdict {
    }

    public void accept(String line) {
        Matcher m;
        if ((m = RESTORED.matcher(line)).find()) {
            lastRestored = m.group(1);
        } else if ((m = CONSISTENT.matcher(line)).find()) {
            consistentAt = Lsn.parse(m.group(1));
        } else if (line.startsWith(STOPPED_AT_TARGET)) {
            stoppedAtTarget = true;
        } else if ((m = FATAL.matcher(line)).find()) {
            if (fatal == null) {
                fatal = m.group(2).strip();
            }
        } else if (line.startsWith("LOG:") && WAL_COMPLAINTS.stream().anyMatch(line::contains)) {
            // the first names the segment or record at fault; those after it ("invalid checkpoint record") follow from it
            if (walComplaint == null) {
                walComplaint = line.substring("LOG:".length()).strip();
            }
        } else if (!line.isBlank() && !SEVERITY.matcher(line).find() && !Character.isWhitespace(line.charAt(0))) {
            commandOutput = line.strip();
        }
    }

    /**
     * The verdict for a backup that ends at {@code backupEnd}; {@code serverGone} when the server
     * has exited (a drill's server shuts itself down at its target).
     */
    public Verdict verdict(Lsn backupEnd, boolean serverGone) {
        if (fatal == null && stoppedAtTarget && consistentAt != null && consistentAt.isAtLeast(backupEnd)) {
            return new Consistent(consistentAt);
        }
        if (fatal == null && !serverGone) {
            return new Replaying(Optional.ofNullable(lastRestored));
        }
        StringBuilder why = new StringBuilder(where());
        why.append(fatal != null ? fatal : consistentAt != null && consistentAt.compareTo(backupEnd) < 0
                ? "consistent only at " + consistentAt + ", before the backup's end " + backupEnd
                : "the server stopped without reaching a consistent state");
        if (walComplaint != null) {
            why.append(" (").append(walComplaint).append(')');
        }
        if (commandOutput != null) {
            why.append(" (restore_command said: ").append(commandOutput).append(')');
        }
        return new Failed(why.toString());
    }

    private String where() {
        return lastRestored == null ? "recovery failed before any WAL segment was restored: "
                : "recovery failed in WAL segment " + lastRestored + ": ";
    }
}
