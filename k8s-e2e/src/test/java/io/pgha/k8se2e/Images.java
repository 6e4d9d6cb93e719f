package io.pgha.k8se2e;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What stands in for a container image on this node: {@code postgres:15} is the local PostgreSQL 15
 * installation, and {@code pgha/<service>} (under any registry and tag, as the kustomize images
 * list rewrites it) is that module's built Quarkus fast-jar, mounted at /deployments as the
 * Dockerfile copies it, with the Dockerfile's own ENV and USER and its entrypoint's java command.
 */
final class Images {
    private static final String BASE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    private static final Pattern PGHA_IMAGE = Pattern.compile("(?:.*/)?pgha/([a-z]+)(?::.*)?");
    private static final Pattern POSTGRES_IMAGE = Pattern.compile("(?:docker\\.io/)?(?:library/)?postgres:15(?:[.-].*)?");
    private static final Pattern ENV_PAIR = Pattern.compile("([A-Za-z_][A-Za-z0-9_]*)=('[^']*'|\"[^\"]*\"|\\S+)");
    private static final String APP_DIR = "/deployments";

    /**
     * An image's configuration: the entrypoint (before the container's command and args), the
     * environment, user and working directory it sets, the signal that stops it, and the host
     * directories it contributes as read-only mounts.
     */
    record Image(List<String> entrypoint, Map<String, String> env, long user, String workingDir, String stopSignal,
                 Map<String, Path> mounts) {
    }

    private final Path repo;

    Images(Path repo) {
        this.repo = repo;
    }

    Image resolve(String image) {
        Matcher pgha = PGHA_IMAGE.matcher(image);
        if (pgha.matches()) {
            return quarkusApp(pgha.group(1));
        }
        if (POSTGRES_IMAGE.matcher(image).matches()) {
            // the official image: PATH to its binaries, PGDATA, STOPSIGNAL SIGINT (a fast shutdown), user root
            Map<String, String> env = new LinkedHashMap<>();
            env.put("PATH", "/usr/lib/postgresql/15/bin:" + BASE_PATH);
            env.put("PGDATA", "/var/lib/postgresql/data");
            return new Image(List.of(), env, 0, "/", "INT", Map.of());
        }
        throw new IllegalArgumentException("image " + image + " is neither postgres:15 nor a pgha/<service> image this node can run");
    }

    private Image quarkusApp(String service) {
        Path app = repo.resolve(service).resolve("target/quarkus-app");
        if (!Files.isRegularFile(app.resolve("quarkus-run.jar"))) {
            throw new IllegalStateException(app + "/quarkus-run.jar is missing: package the " + service + " module first");
        }
        Path dockerfile = repo.resolve("deploy/docker").resolve(service).resolve("Dockerfile.jvm");
        Map<String, String> env = new LinkedHashMap<>();
        env.put("PATH", BASE_PATH);
        long user = 0;
        try {
            for (String line : Files.readAllLines(dockerfile)) {
                if (line.startsWith("ENV ")) {
                    Matcher m = ENV_PAIR.matcher(line.substring(4));
                    while (m.find()) {
                        env.put(m.group(1), unquote(m.group(2)));
                    }
                } else if (line.startsWith("USER ")) {
                    user = Long.parseLong(line.substring(5).trim());
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        // run-java.sh: java $JAVA_OPTS_APPEND -jar $JAVA_APP_JAR, from the application's directory
        List<String> entrypoint = new ArrayList<>();
        entrypoint.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        String opts = env.getOrDefault("JAVA_OPTS_APPEND", "");
        if (!opts.isBlank()) {
            entrypoint.addAll(List.of(opts.trim().split("\\s+")));
        }
        entrypoint.add("-jar");
        entrypoint.add(env.getOrDefault("JAVA_APP_JAR", APP_DIR + "/quarkus-run.jar"));
        return new Image(entrypoint, env, user, APP_DIR, "TERM", Map.of(APP_DIR, app));
    }

    private static String unquote(String v) {
        if (v.length() >= 2 && (v.startsWith("'") && v.endsWith("'") || v.startsWith("\"") && v.endsWith("\""))) {
            return v.substring(1, v.length() - 1);
        }
        return v;
    }
}
