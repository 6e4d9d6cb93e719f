package io.pgha.local.testing;

import io.pgha.local.StateFiles;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileAttribute;

/** Tests' scratch directories under /tmp, where the PostgreSQL OS user can reach them, and their removal. */
public final class TempDirectories {
    private static final Path TMP = Path.of("/tmp");

    private TempDirectories() {
    }

    /**
     * A new directory under /tmp that is removed, with everything in it, when the JVM exits: for the
     * directories a Quarkus test profile or a static field makes, which no test closes (left behind,
     * one run of the suite kept about 60 MB of them).
     */
    public static Path deletedAtExit(String prefix, FileAttribute<?>... attributes) {
        try {
            Path dir = Files.createTempDirectory(TMP, prefix, attributes);
            Runtime.getRuntime().addShutdownHook(new Thread(() -> deleteTree(dir)));
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot make a scratch directory " + prefix + " under " + TMP, e);
        }
    }

    /** Deletes {@code dir} and everything under it; what it cannot delete is left (a test's files, not its outcome). */
    public static void deleteTree(Path dir) {
        try {
            StateFiles.deleteTree(dir);
        } catch (IOException | UncheckedIOException e) {
            // an unreadable directory, or a file a server still writes into: what is left stays
        }
    }
}
