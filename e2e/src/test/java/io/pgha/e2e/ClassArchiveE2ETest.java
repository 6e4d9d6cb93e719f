package io.pgha.e2e;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The launcher's class data sharing: a service whose shared archive is older than its build runs
 * without it and writes a new one as it exits; {@code pgha down} puts that archive beside the
 * build; the next start maps it. Archives are per java: another one writes and maps its own.
 */
class ClassArchiveE2ETest {
    private static final List<String> SERVICES = List.of("provisioner", "backup", "monitor", "router");
    /** The archive a service's JVM writes as it exits, and the tag of the java it is for. */
    private static final Pattern WRITES = Pattern.compile("-XX:ArchiveClassesAtExit=(\\S+)/run/([a-z]+)-([0-9]+)\\.jsa");

    private static Path app(String svc) {
        return Launcher.SCRIPT.getParent().getParent().getParent().resolve(svc).resolve("target/quarkus-app");
    }

    private static Path archive(String svc, String javaTag) {
        return app(svc).resolve("pgha-" + svc + "-" + javaTag + ".jsa");
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

    /** Each service writes an archive into its PGHA_HOME as it exits, and maps none: the java tag of each. */
    private static Map<String, String> writing(Launcher pgha) throws IOException {
        Map<String, String> tags = new HashMap<>();
        for (String svc : SERVICES) {
            String cmd = commandLine(pgha, svc);
            Matcher m = WRITES.matcher(cmd);
            assertTrue(m.find(), svc + " writes an archive: " + cmd);
            assertEquals(pgha.home.toString(), m.group(1), svc + ": " + cmd);
            assertEquals(svc, m.group(2), cmd);
            assertFalse(cmd.contains("SharedArchiveFile"), svc + ": " + cmd);
            tags.put(svc, m.group(3));
        }
        return tags;
    }

    /** pgha down put each service's archive beside its build, newer than it, and kept no copy. */
    private static void published(Launcher pgha, Map<String, String> tags) throws IOException {
        for (String svc : SERVICES) {
            Path archive = archive(svc, tags.get(svc));
            assertTrue(Files.exists(archive), archive + " exists");
            assertTrue(Files.getLastModifiedTime(archive).compareTo(jarTime(svc)) > 0, archive + " is newer than its build");
            assertFalse(Files.exists(pgha.home.resolve("run/" + svc + "-" + tags.get(svc) + ".jsa")), svc + "'s archive was moved, not copied");
        }
    }

    private static void mapping(Launcher pgha, Map<String, String> tags) throws IOException {
        for (String svc : SERVICES) {
            String maps = Files.readString(Path.of("/proc", pid(pgha, svc), "maps"));
            assertTrue(maps.contains(archive(svc, tags.get(svc)).toString()), svc + " maps " + archive(svc, tags.get(svc)));
        }
    }

    private static Path oneInstance(Launcher pgha) throws IOException {
        Path manifest = pgha.home.resolve("one.yaml");
        Files.writeString(manifest, Files.readString(Path.of("../deploy/examples/cluster.yaml")).replace("instances: 3", "instances: 1"));
        return manifest;
    }

    @Test
    void aStaleArchiveIsMadeAnewAtDownAndMappedAtTheNextStart() throws Exception {
        try (Launcher pgha = new Launcher()) {
            // older than the build, as after a rebuild: not to be used
            for (String svc : SERVICES) {
                for (Path archive : archives(svc)) {
                    Files.setLastModifiedTime(archive, FileTime.from(jarTime(svc).toInstant().minus(Duration.ofDays(1))));
                }
            }
            pgha.run("up", "-f", oneInstance(pgha).toString()).ok();
            Map<String, String> tags = writing(pgha);

            pgha.run("down").ok();
            published(pgha, tags);

            pgha.run("up").ok();
            mapping(pgha, tags);
        }
    }

    /**
     * Java 25 refuses Java 17's archive ("Not a valid shared archive file") and runs without it, so
     * an archive that is newer than the build but was written by another java must not be mapped.
     * Another java here is a script that runs the same JVM: another file, with another tag.
     */
    @Test
    void anotherJavaWritesAndMapsArchivesOfItsOwn() throws Exception {
        Path bin = Files.createTempDirectory("pgha-java");
        Path java = bin.resolve("java");
        Files.writeString(java, "#!/bin/sh\nexec '" + Path.of(System.getProperty("java.home"), "bin", "java") + "' \"$@\"\n");
        Files.setPosixFilePermissions(java, PosixFilePermissions.fromString("rwxr-xr-x"));
        // as old as an installed JDK's binary, so older than every archive: its age tells nothing
        Files.setLastModifiedTime(java, FileTime.from(Instant.parse("2025-01-01T00:00:00Z")));
        Map<String, Set<Path>> before = new HashMap<>();
        try (Launcher pgha = new Launcher()) {
            // this java's archives are in place: the run before wrote them if there were none
            pgha.run("up", "-f", oneInstance(pgha).toString()).ok();
            pgha.run("down").ok();
            for (String svc : SERVICES) {
                before.put(svc, archives(svc));
                assertFalse(before.get(svc).isEmpty(), svc + " has an archive");
            }

            pgha.env("PATH", bin + ":" + System.getenv("PATH"));
            pgha.run("up").ok();
            Map<String, String> tags = writing(pgha);
            pgha.run("down").ok();
            published(pgha, tags);
            for (String svc : SERVICES) {
                assertFalse(before.get(svc).contains(archive(svc, tags.get(svc))), svc + ": the other java's tag is another");
                assertTrue(archives(svc).containsAll(before.get(svc)), svc + ": the first java's archive is still there");
            }

            pgha.run("up").ok();
            mapping(pgha, tags);
        } finally {
            // the other java has a tag of its own per run (the script's path is new): whatever it left
            // beside the builds goes, also when the test failed before it learned that tag
            for (Map.Entry<String, Set<Path>> e : before.entrySet()) {
                for (Path left : archives(e.getKey())) {
                    if (!e.getValue().contains(left)) {
                        Files.deleteIfExists(left);
                    }
                }
            }
            Files.deleteIfExists(java);
            Files.deleteIfExists(bin);
        }
    }

    private static Set<Path> archives(String svc) throws IOException {
        Set<Path> found = new HashSet<>();
        try (DirectoryStream<Path> archives = Files.newDirectoryStream(app(svc), "pgha-" + svc + "-*.jsa")) {
            archives.forEach(found::add);
        }
        return found;
    }
}
