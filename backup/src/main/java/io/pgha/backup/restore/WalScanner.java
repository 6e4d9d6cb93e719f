package io.pgha.backup.restore;

import io.pgha.api.postgres.Lsn;
import io.pgha.api.postgres.TimelineHistory;
import io.pgha.backup.core.WalFileName;
import io.pgha.backup.core.WalSummary;
import io.pgha.backup.repository.ChecksumMismatchException;
import io.pgha.backup.wal.WalArchive;
import io.pgha.local.PgBinaries;
import io.pgha.local.StateFiles;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * Reads the archived WAL with pg_waldump at the start of a restore, to learn what a target can
 * reach (see {@link io.pgha.backup.core.RecoveryPlanner}). It reads backwards from the archive's
 * end, a few segments at a time, and stops as soon as what it read is enough for the target: a
 * restore to a time or an LSN reads the archive's last segments, one to a restore point or an xid
 * reads back to the newest record naming it, and only a name or xid the archive does not hold
 * makes it read everything (to refuse, naming the window). A scan of the archive rather than an
 * index kept while archiving: the archive itself is the truth (whoever pushed it, whatever crashed
 * in between), and archiving stays as cheap as a copy. Every segment read goes through its
 * checksum, so a corrupt segment found here is named before the restore starts; one not read here
 * is named by restore_command, which checks it the same way.
 */
public final class WalScanner {
    private static final long SCAN_TIMEOUT_MINUTES = 30;
    /**
     * Segments per pg_waldump run: a time or LSN target reads about this many. Each run also reads
     * the segment before its first (the last of the run before it), so that a record crossing into
     * its first segment is not lost.
     */
    static final int SEGMENTS_PER_READ = 8;

    private final WalArchive archive;
    private final PgBinaries binaries;
    private final int segmentsPerRead;

    public WalScanner(WalArchive archive, PgBinaries binaries) {
        this(archive, binaries, SEGMENTS_PER_READ);
    }

    WalScanner(WalArchive archive, PgBinaries binaries, int segmentsPerRead) {
        this.archive = archive;
        this.binaries = binaries;
        this.segmentsPerRead = segmentsPerRead;
    }

    /** The whole contiguous run from {@code first} (see {@link #scan(WalFileName, Predicate)}). */
    public WalSummary scan(WalFileName first) throws IOException {
        return scan(first, s -> false);
    }

    /**
     * Summarizes the contiguous run of segments that starts at {@code first} on its timeline and
     * goes on along the newest archived timeline that descends from it (as its history file says),
     * so that a target after a failover can be checked: each ancestor timeline up to the segment
     * before its switch point, then the next timeline from the segment holding the switch point
     * (which starts with a copy of the ancestor's WAL up to it). The run is read from its end
     * backwards until {@code enough} holds for what was read (then the summary covers that newest
     * part only), else all of it. Empty when the archive does not hold {@code first}.
     *
     * @throws ScanException naming the segment when one is corrupt or pg_waldump fails on it
     */
    public WalSummary scan(WalFileName first, Predicate<WalSummary> enough) throws IOException {
        Optional<byte[]> firstContent;
        try {
            firstContent = archive.stored(first);
        } catch (ChecksumMismatchException e) {
            throw corrupt(first, e);
        }
        if (firstContent.isEmpty()) {
            return new WalSummary();
        }
        List<List<WalFileName>> run = run(first, firstContent.get().length);
        WalSummary read = new WalSummary();
        Path dir = Files.createTempDirectory("pgha-walscan");
        try {
            for (int p = run.size() - 1; p >= 0; p--) {
                List<WalFileName> piece = run.get(p);
                int start;
                for (int end = piece.size() - 1; ; end = start) {
                    start = Math.max(0, end - segmentsPerRead);
                    WalSummary older = waldump(dir, piece.subList(start, end + 1));
                    older.append(read);
                    read = older;
                    if (enough.test(read)) {
                        return read;
                    }
                    if (start == 0) {
                        break;
                    }
                }
            }
            return read;
        } finally {
            StateFiles.deleteTree(dir);
        }
    }

    /**
     * The contiguous run from {@code first}, as the listing shows it: one list of segments per
     * timeline it goes along, each read by its own pg_waldump (which reads one timeline).
     */
    private List<List<WalFileName>> run(WalFileName first, long segmentSize) throws IOException {
        List<Stretch> stretches = stretches(first.timeline());
        List<List<WalFileName>> run = new ArrayList<>();
        WalFileName from = first;
        for (int i = 0; i < stretches.size(); i++) {
            Stretch stretch = stretches.get(i);
            if (i > 0) {
                from = WalFileName.segmentOf(stretch.timeline(), new Lsn(stretches.get(i - 1).switchpoint()), segmentSize);
            }
            WalFileName expected = from;
            List<WalFileName> piece = new ArrayList<>();
            for (WalFileName segment : stored(stretch.timeline(), from)) {
                if (!segment.equals(expected) || stretch.holds(segment, segmentSize)) {
                    break; // a hole, or the segment holding the switch point, read on the next timeline
                }
                piece.add(segment);
                expected = segment.next(segmentSize);
            }
            if (!piece.isEmpty()) {
                run.add(piece);
            }
            if (stretch.switchpoint() >= 0 && !stretch.holds(expected, segmentSize)) {
                break; // the timeline's WAL ends before its switch point: recovery stops at the hole
            }
        }
        return run;
    }

    /** One timeline's part of the history: up to {@code switchpoint} (a byte position), or to its end when -1. */
    private record Stretch(long timeline, long switchpoint) {
        /** Whether {@code segment} holds this timeline's switch point, or comes after it. */
        boolean holds(WalFileName segment, long segmentSize) {
            return switchpoint >= 0
                    && segment.position() >= WalFileName.segmentOf(timeline, new Lsn(switchpoint), segmentSize).position();
        }
    }

    /**
     * The timelines to follow from {@code timeline}: itself, then its descendants up to the newest
     * archived timeline whose history file names it as an ancestor.
     */
    private List<Stretch> stretches(long timeline) throws IOException {
        TimelineHistory newest = null;
        long newestTimeline = timeline;
        for (String key : archive.repository().list(archive.layout().walPrefix())) {
            Optional<WalFileName> file = archive.layout().walFileOf(key);
            if (file.isEmpty() || file.get().kind() != WalFileName.Kind.HISTORY || file.get().timeline() <= newestTimeline) {
                continue;
            }
            TimelineHistory history;
            try {
                history = TimelineHistory.parse(new String(content(file.get()), StandardCharsets.UTF_8));
            } catch (IllegalArgumentException e) {
                throw new ScanException("timeline history file " + file.get().name() + " in the archive is not readable: " + e.getMessage());
            }
            if (history.forkPoint((int) timeline).isPresent()) {
                newest = history;
                newestTimeline = file.get().timeline();
            }
        }
        List<Stretch> stretches = new ArrayList<>();
        if (newest != null) {
            boolean onPath = false;
            for (TimelineHistory.Fork fork : newest.forks()) {
                onPath |= fork.parent() == timeline;
                if (onPath) {
                    stretches.add(new Stretch(fork.parent(), fork.switchpoint()));
                }
            }
        }
        stretches.add(new Stretch(newestTimeline, -1));
        return stretches;
    }

    private List<WalFileName> stored(long timeline, WalFileName from) throws IOException {
        return archive.storedOn(timeline).stream()
                .filter(f -> f.kind() == WalFileName.Kind.SEGMENT && f.compareTo(from) >= 0)
                .sorted().toList();
    }

    private byte[] content(WalFileName file) throws IOException {
        try {
            return archive.fetch(file).content().orElseThrow(() -> new ScanException("WAL file "
                    + file.name() + " disappeared from the archive during the scan"));
        } catch (ChecksumMismatchException e) {
            throw corrupt(file, e);
        }
    }

    private static ScanException corrupt(WalFileName file, ChecksumMismatchException e) {
        return new ScanException("WAL " + (file.kind() == WalFileName.Kind.SEGMENT ? "segment " : "file ") + file.name()
                + " is corrupt in the archive: " + e.getMessage());
    }

    /** pg_waldump over {@code segments} (consecutive, one timeline), fetched into {@code dir} and removed after. */
    private WalSummary waldump(Path dir, List<WalFileName> segments) throws IOException {
        for (WalFileName segment : segments) {
            Files.write(dir.resolve(segment.name()), content(segment));
        }
        WalSummary summary = new WalSummary();
        List<String> command = List.of(binaries.path("pg_waldump"), "--path=" + dir, segments.get(0).name(),
                segments.get(segments.size() - 1).name());
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
        // commit times in UTC, as the summary parses them
        pb.environment().put("TZ", "UTC");
        pb.environment().put("LC_ALL", "C");
        Process p = pb.start();
        String lastLine = "";
        try (BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = out.readLine()) != null) {
                summary.accept(line);
                lastLine = line;
            }
        }
        try {
            if (!p.waitFor(SCAN_TIMEOUT_MINUTES, TimeUnit.MINUTES)) {
                p.destroyForcibly();
                throw new ScanException("pg_waldump did not finish reading the archive within " + SCAN_TIMEOUT_MINUTES + " minutes");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while scanning the archive", e);
        } finally {
            for (WalFileName segment : segments) {
                Files.deleteIfExists(dir.resolve(segment.name()));
            }
        }
        // pg_waldump ends with an error where valid WAL ends inside the last segment: that is the
        // end of the archive, not a failure. Anything else is.
        if (p.exitValue() != 0 && !lastLine.contains("error in WAL record") && !lastLine.contains("could not find file")) {
            throw new ScanException("pg_waldump could not read the archived WAL: " + lastLine);
        }
        return summary;
    }

    /** The archive cannot be read as far as it claims to go; the message names the segment. */
    public static final class ScanException extends IOException {
        public ScanException(String message) {
            super(message);
        }
    }
}
