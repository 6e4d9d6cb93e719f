package io.pgha.backup.local;

import io.pgha.local.PgBinaries;
import io.pgha.local.StateFiles;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * pg_waldump over one archived segment, decompressed into a private temporary directory (it reads
 * segments by their file name). Its listing goes to {@code WalDumpOutput}; times come out in UTC.
 */
public final class PgWalDump {
    private static final long TIMEOUT_SECONDS = 60;

    private final PgBinaries bin;

    public PgWalDump(PgBinaries bin) {
        this.bin = bin;
    }

    /** The listing (standard output and error: it ends with an error where the archive's WAL stops). */
    public String dump(String segmentName, byte[] segment) throws IOException {
        Path dir = Files.createTempDirectory("pgha-waldump");
        try {
            Files.write(dir.resolve(segmentName), segment);
            Path out = dir.resolve("listing");
            ProcessBuilder pb = new ProcessBuilder(List.of(bin.path("pg_waldump"), "-p", dir.toString(), segmentName))
                    .redirectErrorStream(true).redirectOutput(out.toFile());
            pb.environment().put("TZ", "UTC");
            Process p = pb.start();
            if (!p.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IOException("pg_waldump did not finish within " + TIMEOUT_SECONDS + " s on " + segmentName);
            }
            return Files.readString(out, StandardCharsets.UTF_8);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while pg_waldump ran", e);
        } finally {
            StateFiles.deleteTree(dir);
        }
    }
}
