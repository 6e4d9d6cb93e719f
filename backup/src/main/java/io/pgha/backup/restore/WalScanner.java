package io.pgha.backup.restore;

import io.pgha.backup.core.WalFileName;
import io.pgha.backup.core.WalSummary;
import io.pgha.backup.repository.ChecksumMismatchException;
import io.pgha.backup.wal.WalArchive;
import io.pgha.local.PgBinaries;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Reads the archived WAL from a backup's first segment on with pg_waldump, at the start of a
 * restore, to learn what a target can reach (see {@link io.pgha.backup.core.RecoveryPlanner}).
 * A scan rather than an index kept while archiving: the archive itself is the truth (whoever
 * pushed it, whatever crashed in between), the scan also reads every segment once through its
 * checksum, so a corrupt or missing segment is found before the restore starts instead of after a
 * long replay, and it costs one sequential read of the WAL after the backup.
 */
public final class WalScanner {
    private static final long SCAN_TIMEOUT_MINUTES = 30;

    private final WalArchive archive;
    private final PgBinaries binaries;

    public WalScanner(WalArchive archive, PgBinaries binaries) {
        this.archive = archive;
        this.binaries = binaries;
    }

    /**
     * Scans the contiguous run of segments that starts at {@code first} on its timeline (empty when
     * the archive does not hold {@code first}).
     *
     * @throws ScanException naming the segment when one is corrupt or pg_waldump fails on it
     */
    public WalSummary scan(WalFileName first) throws IOException {
        List<WalFileName> stored = archive.storedOn(first.timeline()).stream()
                .filter(f -> f.kind() == WalFileName.Kind.SEGMENT && f.compareTo(first) >= 0)
                .sorted().toList();
        WalSummary summary = new WalSummary();
        if (stored.isEmpty() || !stored.get(0).equals(first)) {
            return summary;
        }
        Path dir = Files.createTempDirectory("pgha-walscan");
        try {
            WalFileName expected = first;
            WalFileName last = null;
            for (WalFileName segment : stored) {
                if (!segment.equals(expected)) {
                    break; // a hole: recovery cannot go past it, so neither does the window
                }
                byte[] content;
                try {
                    content = archive.fetch(segment).content().orElseThrow(() -> new ScanException("WAL segment "
                            + segment.name() + " disappeared from the archive during the scan"));
                } catch (ChecksumMismatchException e) {
                    throw new ScanException("WAL segment " + segment.name() + " is corrupt in the archive: " + e.getMessage());
                }
                Files.write(dir.resolve(segment.name()), content);
                last = segment;
                expected = segment.next(content.length);
            }
            waldump(dir, first, last, summary);
            return summary;
        } finally {
            try (Stream<Path> files = Files.walk(dir)) {
                for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }

    private void waldump(Path dir, WalFileName first, WalFileName last, WalSummary summary) throws IOException {
        List<String> command = new ArrayList<>(List.of(binaries.path("pg_waldump"), "--path=" + dir, first.name(), last.name()));
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
        }
        // pg_waldump ends with an error where valid WAL ends inside the last segment: that is the
        // end of the archive, not a failure. Anything else is.
        if (p.exitValue() != 0 && !lastLine.contains("error in WAL record") && !lastLine.contains("could not find file")) {
            throw new ScanException("pg_waldump could not read the archived WAL: " + lastLine);
        }
    }

    /** The archive cannot be read as far as it claims to go; the message names the segment. */
    public static final class ScanException extends IOException {
        public ScanException(String message) {
            super(message);
        }
    }
}
