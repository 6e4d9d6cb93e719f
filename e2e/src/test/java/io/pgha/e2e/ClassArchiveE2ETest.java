package io.pgha.e2e;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The launcher's class data sharing: a service whose shared archive is older than its build runs
 * without it and writes a new one as it exits; {@code pgha down} puts that archive beside the
 * build; the next start maps it.
 */
class ClassArchiveE2ETest {
    private static final List<String> SERVICES = List.of("provisioner", "backup", "monitor", "router");

    private static Path app(String svc) {
        return Launcher.SCRIPT.getParent().getParent().getParent().resolve(svc).resolve("target/quarkus-app");
    }

    private static Path archive(String svc) {
        return app(svc).resolve("pgha-" + svc + ".jsa");
    }

    private static FileTime jarTime(String svc) throws IOException {
        return Files.getLastModifiedTime(app(svc).resolve("quarkus-run.jar"));
    }

    private static String pid(Launcher pgha, String svc) throws IOException {
        return Files.readString(pgha.home.resolve("run/" + svc + ".pid")).strip();
    }

    private static String commandLine(Launcher pgha, String svc) throws IOException {
        return new String(Files.readAllBytes(Path.of("/proc", pid(pgha, svc), "cmdline")), StandardCharsets.UTF_8).replace('\0', ' ');
    }

    @Test
    void aStaleArchiveIsMadeAnewAtDownAndMappedAtTheNextStart() throws Exception {
        try (Launcher pgha = new Launcher()) {
            // older than the build, as after a rebuild: not to be used
            for (String svc : SERVICES) {
                if (Files.exists(archive(svc))) {
                    Files.setLastModifiedTime(archive(svc), FileTime.from(jarTime(svc).toInstant().minus(Duration.ofDays(1))));
                }
            }
            Path manifest = pgha.home.resolve("one.yaml");
            Files.writeString(manifest, Files.readString(Path.of("../deploy/examples/cluster.yaml")).replace("instances: 3", "instances: 1"));
            pgha.run("up", "-f", manifest.toString()).ok();
            for (String svc : SERVICES) {
                String cmd = commandLine(pgha, svc);
                assertTrue(cmd.contains("-XX:ArchiveClassesAtExit=" + pgha.home.resolve("run/" + svc + ".jsa")), svc + ": " + cmd);
                assertFalse(cmd.contains("SharedArchiveFile"), svc + ": " + cmd);
            }

            pgha.run("down").ok();
            for (String svc : SERVICES) {
                assertTrue(Files.getLastModifiedTime(archive(svc)).compareTo(jarTime(svc)) > 0, svc + "'s archive is newer than its build");
                assertFalse(Files.exists(pgha.home.resolve("run/" + svc + ".jsa")), svc + "'s archive was moved, not copied");
            }

            pgha.run("up").ok();
            for (String svc : SERVICES) {
                String maps = Files.readString(Path.of("/proc", pid(pgha, svc), "maps"));
                assertTrue(maps.contains(archive(svc).toString()), svc + " maps " + archive(svc));
            }
        }
    }
}
