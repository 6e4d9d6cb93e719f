package io.pgha.local;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What the kernel was asked to do when a store resource, a lease and a secret were written:
 * {@link DurableWriteProbe} runs in its own JVM under strace, and the trace must show, for each
 * file, the rename (or link) into its directory followed by an fsync of that directory. Without
 * it the new name lives in the page cache only, and after a power loss the old file can be back.
 */
class DurableWriteTest {
    /** {@code PID syscall(args) = result}, as strace -f prints a finished call. */
    private static final Pattern CALL = Pattern.compile("^(\\d+)\\s+(\\w+)\\((.*)\\)\\s+=\\s+(-?\\d+)");
    private static final Pattern UNFINISHED = Pattern.compile("^(\\d+)\\s+(.*) <unfinished \\.\\.\\.>$");
    private static final Pattern RESUMED = Pattern.compile("^(\\d+)\\s+<\\.\\.\\. \\w+ resumed>(.*)$");
    private static final Pattern QUOTED = Pattern.compile("\"((?:[^\"\\\\]|\\\\.)*)\"");

    @TempDir
    Path tmp;

    record Call(long pid, String name, List<String> paths, String args, long result) {
    }

    @Test
    void everyStateFileIsFsyncedItsRenameIsFsyncedAndNoSecretIsChmodded() throws Exception {
        Path home = tmp.resolve("home").toAbsolutePath();
        List<Call> calls = traceProbe(home);
        LocalLayout layout = new LocalLayout(home, LocalLayout.DEFAULT_PORT_BASE);
        Path resource = layout.store().resolve("postgresclusters").resolve(LocalLayout.NAMESPACE)
                .resolve(DurableWriteProbe.CLUSTER + ".json");
        for (Path file : List.of(resource, layout.lease(DurableWriteProbe.LEASE), layout.secret(DurableWriteProbe.SECRET))) {
            assertTrue(Files.exists(file), file + " was written");
            assertDirectorySyncedAfterPlacing(calls, file);
        }
        List<Call> chmods = calls.stream().filter(c -> c.name().contains("chmod"))
                .filter(c -> c.paths().stream().anyMatch(p -> p.startsWith(layout.secret("x").getParent().toString())))
                .toList();
        assertEquals(List.of(), chmods, "a secret is created with its mode, never chmod-ed afterwards");
        assertEquals("rw-------", java.nio.file.attribute.PosixFilePermissions.toString(
                Files.getPosixFilePermissions(layout.secret(DurableWriteProbe.SECRET))));
    }

    /** After the last call that gave {@code file} its name, the same process fsynced a descriptor opened on its directory. */
    private static void assertDirectorySyncedAfterPlacing(List<Call> calls, Path file) {
        int placed = -1;
        for (int i = 0; i < calls.size(); i++) {
            Call c = calls.get(i);
            if ((c.name().startsWith("rename") || c.name().startsWith("link")) && c.result() == 0
                    && c.paths().size() >= 2 && c.paths().get(c.paths().size() - 1).equals(file.toString())) {
                placed = i;
            }
        }
        assertTrue(placed >= 0, "no rename or link onto " + file + " in the trace");
        long pid = calls.get(placed).pid();
        Map<Long, String> open = new HashMap<>();
        for (int i = 0; i < calls.size(); i++) {
            Call c = calls.get(i);
            if (c.pid() != pid) {
                continue;
            }
            if (c.name().startsWith("open") && c.result() >= 0 && !c.paths().isEmpty()) {
                open.put(c.result(), c.paths().get(0));
            } else if (i > placed && (c.name().equals("fsync") || c.name().equals("fdatasync")) && c.result() == 0) {
                long fd = Long.parseLong(c.args().strip());
                if (file.getParent().toString().equals(open.get(fd))) {
                    return;
                }
            }
        }
        throw new AssertionError("the directory " + file.getParent() + " was not fsynced after " + file + " was placed: "
                + calls.subList(placed, calls.size()).stream().filter(c -> c.pid() == pid).limit(8).toList());
    }

    private List<Call> traceProbe(Path home) throws IOException, InterruptedException {
        Path trace = tmp.resolve("trace");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> cmd = List.of("strace", "-f", "-qq", "-s", "4096", "-o", trace.toString(),
                "-e", "trace=open,openat,fsync,fdatasync,rename,renameat,renameat2,link,linkat,chmod,fchmod,fchmodat",
                java, "-cp", System.getProperty("java.class.path"), DurableWriteProbe.class.getName(), home.toString());
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(tmp.resolve("out").toFile()).start();
        assertTrue(p.waitFor(2, TimeUnit.MINUTES), "the probe finished");
        assertEquals(0, p.exitValue(), () -> "strace and the probe ran (strace is needed: apt-get install strace): "
                + read(tmp.resolve("out")));
        List<Call> calls = new ArrayList<>();
        Map<String, String> unfinished = new HashMap<>();
        for (String raw : Files.readAllLines(trace)) {
            // a call another thread interrupted is printed in two parts: join them
            String line = raw;
            Matcher pause = UNFINISHED.matcher(raw);
            Matcher resume = RESUMED.matcher(raw);
            if (pause.find()) {
                unfinished.put(pause.group(1), pause.group(2));
                continue;
            } else if (resume.find() && unfinished.containsKey(resume.group(1))) {
                line = resume.group(1) + " " + unfinished.remove(resume.group(1)) + resume.group(2);
            }
            Matcher m = CALL.matcher(line);
            if (!m.find()) {
                continue; // an interrupted call, a signal, an exit
            }
            List<String> paths = new ArrayList<>();
            Matcher q = QUOTED.matcher(m.group(3));
            while (q.find()) {
                paths.add(q.group(1));
            }
            calls.add(new Call(Long.parseLong(m.group(1)), m.group(2), paths, m.group(3), Long.parseLong(m.group(4))));
        }
        return calls;
    }

    private static String read(Path p) {
        try {
            return Files.readString(p);
        } catch (IOException e) {
            return e.toString();
        }
    }
}
