package io.pgha.provisioner.kubernetes;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The instance bootstrap script's handling of a fresh clone's archive status, run by bash on a
 * directory laid out as pg_basebackup leaves it: every WAL file it streamed whole is marked
 * archived (.done), and the pod's standby must archive them itself (see
 * io.pgha.local.ClonedStandbyArchiveStatusTest for why, against real servers, in local mode).
 * The function is taken from the script as shipped; do_clone calls it on the clone.
 */
class BootstrapCloneMarksTest {
    private static final String FUNCTION = "mark_streamed_wal_waiting";

    @Test
    void theWalAFreshCloneStreamedIsMarkedWaitingToBeArchived(@TempDir Path clone) throws Exception {
        Path status = Files.createDirectories(clone.resolve("pg_wal/archive_status"));
        Files.createFile(status.resolve("000000010000000000000004.done"));
        Files.createFile(status.resolve("000000010000000000000005.done"));
        Files.createFile(status.resolve("00000002.history.done"));
        Files.createFile(status.resolve("000000010000000000000006.ready"));
        run(clone);
        assertEquals(List.of("000000010000000000000004.ready", "000000010000000000000005.ready", "000000010000000000000006.ready",
                "00000002.history.ready"), list(status));
    }

    @Test
    void aCloneWithNothingMarkedIsLeftAsItIs(@TempDir Path clone) throws Exception {
        Path status = Files.createDirectories(clone.resolve("pg_wal/archive_status"));
        run(clone);
        assertEquals(List.of(), list(status));
    }

    private static void run(Path clone) throws Exception {
        String script = ClusterConfigMap.bootstrapScript();
        int start = script.indexOf(FUNCTION + "() {");
        assertTrue(start >= 0, "the script defines " + FUNCTION);
        String function = script.substring(start, script.indexOf("\n}\n", start) + 3);
        Process bash = new ProcessBuilder("bash", "-euc", function + FUNCTION + " \"$1\"", "test", clone.toString())
                .redirectErrorStream(true).start();
        assertTrue(bash.waitFor(30, TimeUnit.SECONDS));
        String output = new String(bash.getInputStream().readAllBytes());
        assertEquals(0, bash.exitValue(), output);
    }

    private static List<String> list(Path dir) throws Exception {
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(f -> f.getFileName().toString()).sorted().toList();
        }
    }
}
