package io.pgha.e2e;

import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** What goes wrong before a cluster starts is reported in one line, and nothing is left running. */
class LauncherErrorsE2ETest {
    private static void assertOneLineError(Launcher.Result r, String expected) {
        assertEquals(1, r.exitCode(), r.stderr());
        assertEquals(1, r.stderr().strip().lines().count(), "one line: " + r.stderr());
        assertTrue(r.stderr().contains(expected), r.stderr());
        assertTrue(!r.stderr().contains("Exception"), "no stack trace: " + r.stderr());
    }

    @Test
    void takenPortIsOneLine() throws Exception {
        try (Launcher pgha = new Launcher(); ServerSocket taken = new ServerSocket()) {
            taken.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), pgha.portBase + 11));
            assertOneLineError(pgha.run("up"), "port " + (pgha.portBase + 11) + " is already in use");
            assertTrue(!Files.exists(pgha.home.resolve("run/provisioner.pid")), "no service was started");
        }
    }

    @Test
    void missingPostgresBinariesAreOneLine() throws Exception {
        try (Launcher pgha = new Launcher()) {
            pgha.env("PGHA_PG_BIN", "/nonexistent/postgresql/bin");
            assertOneLineError(pgha.run("up"), "PostgreSQL 15 binaries not found in PGHA_PG_BIN=/nonexistent/postgresql/bin");
        }
    }

    @Test
    void invalidManifestAtFirstUpIsOneLine() throws Exception {
        try (Launcher pgha = new Launcher()) {
            Path bad = pgha.home.resolve("bad.yaml");
            Files.writeString(bad, Files.readString(Path.of("../deploy/examples/cluster.yaml")).replace("instances: 3", "instances: 0"));
            Launcher.Result r = pgha.run("up", "-f", bad.toString());
            assertEquals(1, r.exitCode(), r.stderr());
            List<String> lines = r.stderr().strip().lines().toList();
            // progress first, then the one line that names the field
            assertTrue(lines.get(lines.size() - 1).endsWith("spec.instances: must be at least 1, got 0"), r.stderr());
            assertTrue(lines.stream().noneMatch(l -> l.contains("Exception")), r.stderr());
            assertTrue(!Files.exists(pgha.home.resolve("instances")), "no instance was created");
            for (String svc : List.of("provisioner", "monitor", "router", "backup")) {
                assertTrue(!Files.exists(pgha.home.resolve("run/" + svc + ".pid")), svc + " was stopped again");
            }
        }
    }

    @Test
    void commandsWithoutARunningClusterSaySo() throws Exception {
        try (Launcher pgha = new Launcher()) {
            assertOneLineError(pgha.run("status"), "pgha is not running");
            assertOneLineError(pgha.run("frobnicate"), "unknown command 'frobnicate'");
        }
    }

    /** As root, PostgreSQL runs as the postgres OS user, which must be able to enter $PGHA_HOME. */
    @Test
    void untraversableStateDirectoryIsNamedInOneLine() throws Exception {
        assumeTrue("root".equals(System.getProperty("user.name")), "the check applies when pgha runs as root, as CI does");
        Path closed = Files.createTempDirectory(Path.of("/tmp"), "pgha-closed",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        try (Launcher pgha = new Launcher()) {
            pgha.env("PGHA_HOME", closed.resolve("state").toString());
            assertOneLineError(pgha.run("up"), "cannot enter " + closed);
        } finally {
            Files.walk(closed).sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }
}
